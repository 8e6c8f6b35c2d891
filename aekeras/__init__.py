"""aekeras: autoencoders in Keras 3, for teaching."""

from aekeras.version import __version__
