"""Course and benchmark tooling of the aekeras repository (not part of the installed package).

Run its modules from the repository root, e.g. `python -m aekeras_tools.site`,
`python -m aekeras_tools.slides --check course/0*.ipynb` or
`python -m aekeras_tools.hinton2006 --only mnist`; `python3 tasks.py` runs them
for the usual tasks. The package is not in the wheel: it works on a checkout.
"""
