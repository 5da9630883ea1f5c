"""Benchmarks: cust against DuckDB SQL computing the same figures on the same files."""
