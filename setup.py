"""Only the optional C kernels of the native backend; all metadata lives in setup.cfg.

``optional=True``: where no C compiler is found the build says so and pmmlkit installs
without the extension; the native backend then uses its NumPy kernels (same answers).
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("pmmlkit.evaluator.native._ckernels", ["pmmlkit/evaluator/native/_ckernels.c"],
                             extra_compile_args=["-O3", "-ffp-contract=off"], optional=True)])
