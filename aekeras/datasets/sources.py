"""MNIST and Fashion-MNIST: their official IDX files, checksums and download URLs.

The URLs, sizes and sha256 checksums are the ones tensorflow-datasets
registers for these files (its `url_checksums/mnist.txt` and
`fashion_mnist.txt`); `data/SHA256SUMS` lists the same checksums.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class IdxDataset:
    """One dataset of the MNIST family.

    Attributes:
        name: The TFDS name, also the sub-folder of the raw-data folder.
        title: The name shown in messages.
        url: The download location (TFDS's), ending in `/`.
        files: `{file name: (sha256, size in bytes)}` of the four IDX files.
        num_examples: `{split: number of examples}`.
    """

    name: str
    title: str
    url: str
    files: dict
    num_examples: dict

    def split_files(self, split):
        """The `(images, labels)` file names of `split`."""
        prefix = "train" if split == "train" else "t10k"
        return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


MNIST = IdxDataset(
    name="mnist",
    title="MNIST",
    url="https://storage.googleapis.com/cvdf-datasets/mnist/",
    files={
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9912422,
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28881,
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1648877,
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4542,
        ),
    },
    num_examples={"train": 60000, "test": 10000},
)

FASHION_MNIST = IdxDataset(
    name="fashion_mnist",
    title="Fashion-MNIST",
    url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    files={
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            26421880,
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            29515,
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            4422102,
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            5148,
        ),
    },
    num_examples={"train": 60000, "test": 10000},
)

# Looked up at each call, so that tests can point a dataset at a local server.
DATASETS = {source.name: source for source in (MNIST, FASHION_MNIST)}
