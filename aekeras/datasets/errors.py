"""The errors the dataset loaders raise when data is missing or damaged."""


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset is not on disk and cannot be downloaded.

    A subclass of `FileNotFoundError` (so `except OSError` catches it too).
    The message names the files needed, the folder to put them in and the
    environment variable to set (`AEKERAS_RAW_DATA`). It is also raised when
    `AEKERAS_RAW_DATA` or `raw_dir=` names a folder that does not exist.
    """


class DatasetCorruptedError(OSError):
    """Raised when a raw dataset file is damaged: wrong checksum or not a valid file.

    A subclass of `OSError`, like `gzip.BadGzipFile`. The message names the
    file (or the URL it came from) and, for a checksum mismatch, the expected
    and received sha256 and sizes. Nothing is prepared from a damaged file:
    the data home is left as it was.
    """
