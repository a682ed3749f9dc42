"""Front end: the CrossGuard policy pack. `pack` holds the policies (importable, testable), `__main__` serves them.

May import anything of the project except `tests`; nothing imports it.
"""
