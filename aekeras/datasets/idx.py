"""Reading gzipped IDX files, the format of MNIST and Fashion-MNIST, with NumPy.

An IDX file is a header, then the array in C order, big-endian: two zero
bytes, one byte for the element type, one byte for the number of dimensions
`d`, then `d` unsigned 32-bit sizes.
"""

import gzip
import zlib

import numpy as np

from aekeras.datasets.errors import DatasetCorruptedError

# The element type codes of the IDX format.
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Returns the array stored in the gzipped IDX file `path`.

    Raises:
        DatasetCorruptedError: Naming the file, when it is not a valid
            gzip stream or not a valid IDX array (bad magic number, unknown
            element type, or a size that does not match the header).
    """

    def corrupted(reason):
        return DatasetCorruptedError(f"{path} is not a valid gzipped IDX file: {reason}.")

    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise corrupted(f"{type(error).__name__}: {error}") from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise corrupted(f"bad magic number {data[:4].hex() or 'none'}")
    if data[2] not in _DTYPES:
        raise corrupted(f"unknown element type 0x{data[2]:02x}")
    dtype, ndim = _DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise corrupted(f"the header of {ndim} dimensions is cut short")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise corrupted(
            f"the header announces shape {shape} of {dtype} ({expected} bytes in "
            f"all), the file holds {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))
