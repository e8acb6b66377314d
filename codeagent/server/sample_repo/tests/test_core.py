import unittest

from fizzbuzz.core import fizz_buzz, sequence


class FizzBuzzTest(unittest.TestCase):
    def test_plain_numbers(self):
        self.assertEqual(fizz_buzz(1), "1")
        self.assertEqual(fizz_buzz(7), "7")

    def test_multiples_of_three(self):
        self.assertEqual(fizz_buzz(3), "Fizz")
        self.assertEqual(fizz_buzz(9), "Fizz")

    def test_multiples_of_five(self):
        self.assertEqual(fizz_buzz(5), "Buzz")
        self.assertEqual(fizz_buzz(20), "Buzz")

    def test_multiples_of_fifteen(self):
        self.assertEqual(fizz_buzz(15), "FizzBuzz")
        self.assertEqual(fizz_buzz(30), "FizzBuzz")


class SequenceTest(unittest.TestCase):
    def test_first_fifteen(self):
        self.assertEqual(
            sequence(15),
            ["1", "2", "Fizz", "4", "Buzz", "Fizz", "7", "8", "Fizz", "Buzz",
             "11", "Fizz", "13", "14", "FizzBuzz"],
        )

    def test_negative_limit(self):
        with self.assertRaises(ValueError):
            sequence(-1)


if __name__ == "__main__":
    unittest.main()
