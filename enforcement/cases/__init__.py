"""The enforcement case: parties, the claim, the fee, the deadline, payments and closing."""
