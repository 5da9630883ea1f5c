"""cust: customer analytics for an electronic-components shop."""

__version__ = "0.1.0"
