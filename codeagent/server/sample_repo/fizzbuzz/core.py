"""The FizzBuzz rules."""


def fizz_buzz(n: int) -> str:
    """Return "Fizz", "Buzz", "FizzBuzz" or the number as text."""
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    if n % 15 == 0:
        return "FizzBuzz"
    return str(n)


def sequence(limit: int) -> list[str]:
    """FizzBuzz for 1 .. limit."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    return [fizz_buzz(n) for n in range(1, limit + 1)]
