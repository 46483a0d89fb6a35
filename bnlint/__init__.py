"""bnlint: lint, fix and fold the BatchNormalization structure of Keras models.

Importing bnlint imports neither TensorFlow nor Keras.
"""

__version__ = "0.1.0"
