"""FizzBuzz: a library function and a small command line tool."""

from fizzbuzz.core import fizz_buzz, sequence

__all__ = ["fizz_buzz", "sequence"]
