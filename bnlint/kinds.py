"""Static facts about Keras layer classes: kinds, aliases, signatures, defaults.

Contract
--------
This module is plain data plus tiny pure functions. It imports nothing (not
even the standard library), and above all never TensorFlow or Keras: it is on
the hot path of every lint run. Facts are those of Keras 3.15 (``keras.layers``)
unless a comment says tf.keras 2.x or Keras 1; ``tests/test_kinds.py`` checks
them against a real Keras install.

Class names
    ``canonical_class(name)`` maps any spelling (Keras 3 export aliases such as
    ``MaxPool2D``, tf.keras 2.x and Keras 1 names) to the class ``__name__``
    that Keras 3 serialises as ``class_name`` -- e.g. ``"GroupQueryAttention"``
    -> ``"GroupedQueryAttention"``. Unknown names come back unchanged.
    ``kind_of(name)`` gives one of ``KINDS``; unknown names are ``"other"``.
    ``LAYER_KINDS`` holds every known spelling, aliases included.

Constructor arguments
    ``POSITIONAL_PARAMS`` is keyed by canonical class, plus a few Keras 1
    spellings whose positional order differs (``"Convolution2D"``: nb_filter,
    nb_row, nb_col, ...). Look up the name as written first, then the canonical
    name -- or better, call ``positional_params(name, args)``, which also tells
    Keras 1 ``Convolution2D(64, 3, 3)`` from Keras 2+ ``Convolution2D(64, (3, 3))``.
    ``KERAS1_KWARGS`` renames legacy keywords (per canonical class),
    ``KERAS1_KERNEL_SIZE`` lists the Keras 1 keywords that together form
    ``kernel_size`` and ``KERAS1_VALUES`` translates legacy values
    (``dim_ordering="th"`` -> ``data_format="channels_first"``).

Defaults
    ``DEFAULT_CONFIG[canonical]`` holds the Keras defaults of the keys rules read
    (use_bias, activation, momentum, epsilon, axis, center, scale, data_format,
    rate), only those the class has. Conventions: ``data_format=None`` is stored
    as ``"channels_last"`` and ``activation=None`` as ``"linear"``. A required
    argument (``Dropout.rate``) has no default and is absent.

Activations
    ``activation_name`` canonicalises a string ``activation=`` argument the way
    ``keras.activations.get`` would (``"swish"`` -> ``"silu"``), ``None`` is
    ``"linear"``, anything Keras would reject (``"ReLU"``) is ``None``.
    ``activation_of_function`` does the same for a called function's qualified
    name (``tensorflow.nn.relu``, ``keras.ops.silu`` ...).

Names and axes
    ``to_snake_case`` is the prefix Keras gives an unnamed layer (``ReLU`` ->
    ``re_lu``); ``channel_axes`` is the set of equivalent axis integers of a
    conv/dense output's channel axis, or ``None`` when it cannot be known;
    ``batchnorm_axis`` is the ``axis`` a BN after such a layer takes.
"""

__all__ = [
    "ACTIVATION_FUNCTIONS",
    "ACTIVATION_LAYERS",
    "DEFAULT_CONFIG",
    "KERAS1_KERNEL_SIZE",
    "KERAS1_KWARGS",
    "KERAS1_VALUES",
    "KINDS",
    "LAYER_KINDS",
    "LEGACY_ALIASES",
    "POSITIONAL_PARAMS",
    "activation_name",
    "activation_of_function",
    "applied_activation",
    "batchnorm_axis",
    "canonical_class",
    "channel_axes",
    "declared_rank",
    "kind_of",
    "output_rank",
    "positional_params",
    "to_snake_case",
]

KINDS = (
    "input", "conv", "dense", "batchnorm", "norm", "activation", "dropout", "pool",
    "merge", "reshape", "embedding", "recurrent", "attention", "op", "model", "other",
)


# ---------------------------------------------------------------------------
# Class names
# ---------------------------------------------------------------------------

# Spelling -> the class __name__ Keras 3 serialises. Aliases that name the very
# same class come first; then older classes whose Keras 3 successor computes the
# same thing.
LEGACY_ALIASES = {
    # Keras 3.15 export aliases (keras.layers.X is Y).
    "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D",
    "MaxPool1D": "MaxPooling1D",
    "MaxPool2D": "MaxPooling2D",
    "MaxPool3D": "MaxPooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D",
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "Convolution1DTranspose": "Conv1DTranspose",
    "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose",
    "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D",
    # Exported as GroupQueryAttention, but the class (and so class_name) is this.
    "GroupQueryAttention": "GroupedQueryAttention",
    # Keras 2 / tf.keras 2.x aliases of the same classes.
    "Deconvolution2D": "Conv2DTranspose",
    "Deconvolution3D": "Conv3DTranspose",
    "Deconv2D": "Conv2DTranspose",
    "Deconv3D": "Conv3DTranspose",
    "BatchNormalizationV1": "BatchNormalization",
    "BatchNormalizationV2": "BatchNormalization",
    "GRUV1": "GRU",
    "GRUV2": "GRU",
    "GRUCellV1": "GRUCell",
    "GRUCellV2": "GRUCell",
    "LSTMV1": "LSTM",
    "LSTMV2": "LSTM",
    "LSTMCellV1": "LSTMCell",
    "LSTMCellV2": "LSTMCell",
    # tf.keras 2.x (layers.experimental.SyncBatchNormalization): Keras 3 spells
    # it BatchNormalization(synchronized=True); the statistics are the same.
    "SyncBatchNormalization": "BatchNormalization",
    # Keras 1 classes replaced by an argument of the Keras 2+ class.
    "AtrousConvolution1D": "Conv1D",  # atrous_rate -> dilation_rate
    "AtrousConvolution2D": "Conv2D",
    "TimeDistributedDense": "Dense",  # Dense acts on the last axis of any rank
}


def canonical_class(class_name):
    """The Keras 3 class name for any known spelling; other names unchanged."""
    if not isinstance(class_name, str):
        return class_name
    return LEGACY_ALIASES.get(class_name, class_name)


# Canonical class names by kind. Names that are not in keras.layers 3.15 are
# marked with where they come from.
_CLASSES_BY_KIND = {
    "input": (
        "Input",  # keras.Input is a function, but source code calls it like a class
        "InputLayer",
    ),
    "conv": (
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "Conv1DTranspose",
        "Conv2DTranspose",
        "Conv3DTranspose",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "SeparableConv1D",
        "SeparableConv2D",
        # tf.keras 2.x. Its bias is per position, not per channel, so a BN after
        # it cancels only the bias' mean.
        "LocallyConnected1D",
        "LocallyConnected2D",
    ),
    "dense": (
        "Dense",
        "EinsumDense",  # bias only with bias_axes (default None: no bias)
    ),
    "batchnorm": (
        "BatchNormalization",
    ),
    "norm": (
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "RMSNormalization",
    ),
    "activation": (
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "Softmax",
        "ThresholdedReLU",  # tf.keras 2.x, Keras 1
        "ParametricSoftplus",  # Keras 1
        "SReLU",  # Keras 1
    ),
    "dropout": (
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianDropout",
        "AlphaDropout",
    ),
    "pool": (
        "AveragePooling1D",
        "AveragePooling2D",
        "AveragePooling3D",
        "MaxPooling1D",
        "MaxPooling2D",
        "MaxPooling3D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalAveragePooling3D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "GlobalMaxPooling3D",
        "AdaptiveAveragePooling1D",
        "AdaptiveAveragePooling2D",
        "AdaptiveAveragePooling3D",
        "AdaptiveMaxPooling1D",
        "AdaptiveMaxPooling2D",
        "AdaptiveMaxPooling3D",
    ),
    "merge": (
        "Add",
        "Subtract",
        "Multiply",
        "Average",
        "Maximum",
        "Minimum",
        "Concatenate",
        "Dot",
        "Merge",  # Keras 1: one class, the operation chosen by mode=
    ),
    "reshape": (
        "Flatten",
        "Reshape",
        "Permute",
        "RepeatVector",
        "Cropping1D",
        "Cropping2D",
        "Cropping3D",
        "UpSampling1D",
        "UpSampling2D",
        "UpSampling3D",
        "ZeroPadding1D",
        "ZeroPadding2D",
        "ZeroPadding3D",
        "Identity",
    ),
    "embedding": (
        "Embedding",
        "ReversibleEmbedding",
        "DynamicEmbedding",  # tf.keras 2.x layers.experimental
    ),
    "recurrent": (
        "RNN",
        "SimpleRNN",
        "GRU",
        "LSTM",
        "SimpleRNNCell",
        "GRUCell",
        "LSTMCell",
        "StackedRNNCells",
        "Bidirectional",  # only ever wraps a recurrent layer
        "ConvLSTM1D",
        "ConvLSTM2D",
        "ConvLSTM3D",
        # tf.keras 2.x
        "AbstractRNNCell",
        "CuDNNGRU",
        "CuDNNLSTM",
        "PeepholeLSTMCell",
        "DeviceWrapper",  # RNN-cell wrappers: they only live inside an RNN
        "DropoutWrapper",
        "ResidualWrapper",
        # Keras 1 / Keras 2 base classes that appear in old configs
        "Recurrent",
        "ConvRecurrent2D",
    ),
    "attention": (
        "Attention",
        "AdditiveAttention",
        "MultiHeadAttention",
        "GroupedQueryAttention",
    ),
    "op": (
        # tf.keras 2.x wraps raw TF calls on symbolic tensors in these layers.
        "TFOpLambda",
        "SlicingOpLambda",
        "ClassMethod",
        "InstanceMethod",
        "InstanceProperty",
        "TensorFlowOpLayer",  # TF 2.0-2.3
    ),
    "model": (
        "Functional",
        "Sequential",
        "Model",
    ),
    "other": (
        # Base classes and generic wrappers: what they compute depends on what
        # they wrap, which a kind of their own cannot say.
        "Layer",
        "Wrapper",
        "TimeDistributed",
        "SpectralNormalization",  # reparametrises the wrapped layer's kernel
        "Lambda",
        # Opaque foreign or saved computations.
        "TFSMLayer",
        "JaxLayer",
        "FlaxLayer",
        "TorchModuleWrapper",
        # Identity in the forward pass (adds a loss) or masking only.
        "ActivityRegularization",
        "Masking",
        # GaussianNoise adds noise, it does not drop units: it neither rescales
        # activations nor shifts the variance the way dropout before BN does.
        "GaussianNoise",
        # Normalization is preprocessing: a fixed standardisation with adapted
        # (not learned) mean and variance, no batch statistics, no momentum.
        "Normalization",
        "Rescaling",
        "Discretization",
        "CategoryEncoding",
        "Hashing",
        "HashedCrossing",
        "IntegerLookup",
        "StringLookup",
        "TextVectorization",
        "MelSpectrogram",
        "STFTSpectrogram",
        "Pipeline",
        # Image preprocessing and augmentation.
        "AugMix",
        "AutoContrast",
        "CenterCrop",
        "ContrastLimitedAdaptiveHistogramEqualization",
        "CutMix",
        "Equalization",
        "MaxNumBoundingBoxes",
        "MixUp",
        "RandAugment",
        "RandomBrightness",
        "RandomColorDegeneration",
        "RandomColorJitter",
        "RandomContrast",
        "RandomCrop",
        "RandomElasticTransform",
        "RandomErasing",
        "RandomFlip",
        "RandomGaussianBlur",
        "RandomGrayscale",
        "RandomHue",
        "RandomInvert",
        "RandomPerspective",
        "RandomPosterization",
        "RandomRotation",
        "RandomSaturation",
        "RandomSharpness",
        "RandomShear",
        "RandomTranslation",
        "RandomZoom",
        "Resizing",
        "Solarization",
        # tf.keras 2.x
        "DenseFeatures",  # feature-column input plumbing
        "PreprocessingLayer",
        "CategoryCrossing",
        "RandomHeight",
        "RandomWidth",
        # Fixed random projection followed by cos: no per-unit bias for BN to
        # make redundant, nothing to fold.
        "RandomFourierFeatures",
        # Keras 1. Neither is an affine map of its input (max over pieces, a
        # gated mix with the input), so dense-layer rules do not apply.
        "MaxoutDense",
        "Highway",
    ),
}

LAYER_KINDS = {
    name: kind for kind, names in _CLASSES_BY_KIND.items() for name in names
}
LAYER_KINDS.update(
    {alias: LAYER_KINDS[target] for alias, target in LEGACY_ALIASES.items()}
)


def kind_of(class_name):
    """The kind (one of ``KINDS``) of a layer class; ``"other"`` if unknown."""
    if not isinstance(class_name, str):
        return "other"
    return LAYER_KINDS.get(class_name, "other")


# ---------------------------------------------------------------------------
# Constructor arguments
# ---------------------------------------------------------------------------

# Shared Keras 3.15 positional orders (inspect.signature(cls.__init__), up to
# the first *args/**kwargs/keyword-only parameter).
_CONV = (
    "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
    "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
    "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
    "bias_constraint",
)
_CONV_TRANSPOSE = (
    "filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
    "dilation_rate", "activation", "use_bias", "kernel_initializer", "bias_initializer",
    "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
    "bias_constraint",
)
_DEPTHWISE_CONV = (
    "kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate",
    "activation", "use_bias", "depthwise_initializer", "bias_initializer",
    "depthwise_regularizer", "bias_regularizer", "activity_regularizer",
    "depthwise_constraint", "bias_constraint",
)
_SEPARABLE_CONV = (
    "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
    "depth_multiplier", "activation", "use_bias", "depthwise_initializer",
    "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
    "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
    "depthwise_constraint", "pointwise_constraint", "bias_constraint",
)
_CONV_LSTM = (
    "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
    "activation", "recurrent_activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
    "recurrent_dropout", "seed", "return_sequences", "return_state", "go_backwards",
    "stateful",
)
_POOL = ("pool_size", "strides", "padding", "data_format", "name")
_GLOBAL_POOL = ("data_format", "keepdims")
_ADAPTIVE_POOL = ("output_size", "data_format")

POSITIONAL_PARAMS = {
    # ---- keras.layers, Keras 3.15 (keys are canonical class names) ----
    "Input": (
        "shape", "batch_size", "dtype", "sparse", "ragged", "batch_shape", "name", "tensor",
        "optional",
    ),
    "Activation": ("activation",),
    "ActivityRegularization": ("l1", "l2"),
    "AdaptiveAveragePooling1D": _ADAPTIVE_POOL,
    "AdaptiveAveragePooling2D": _ADAPTIVE_POOL,
    "AdaptiveAveragePooling3D": _ADAPTIVE_POOL,
    "AdaptiveMaxPooling1D": _ADAPTIVE_POOL,
    "AdaptiveMaxPooling2D": _ADAPTIVE_POOL,
    "AdaptiveMaxPooling3D": _ADAPTIVE_POOL,
    "Add": (),
    "AdditiveAttention": ("use_scale", "dropout"),
    "AlphaDropout": ("rate", "noise_shape", "seed"),
    "Attention": ("use_scale", "score_mode", "dropout", "seed"),
    "AugMix": (
        "value_range", "num_chains", "chain_depth", "factor", "alpha", "all_ops",
        "interpolation", "seed", "data_format",
    ),
    "AutoContrast": ("value_range",),
    "Average": (),
    "AveragePooling1D": _POOL,
    "AveragePooling2D": _POOL,
    "AveragePooling3D": _POOL,
    "BatchNormalization": (
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
        "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
        "renorm", "renorm_clipping", "renorm_momentum", "synchronized",
    ),
    "Bidirectional": ("layer", "merge_mode", "weights", "backward_layer"),
    "CategoryEncoding": ("num_tokens", "output_mode", "sparse"),
    "CenterCrop": ("height", "width", "data_format"),
    "Concatenate": ("axis",),
    "ContrastLimitedAdaptiveHistogramEqualization": (
        "value_range", "clip_limit", "tile_grid_size", "data_format",
    ),
    "Conv1D": _CONV,
    "Conv1DTranspose": _CONV_TRANSPOSE,
    "Conv2D": _CONV,
    "Conv2DTranspose": _CONV_TRANSPOSE,
    "Conv3D": _CONV,
    # data_format before output_padding here, unlike Conv1D/2DTranspose and
    # unlike tf.keras 2.x's Conv3DTranspose.
    "Conv3DTranspose": (
        "filters", "kernel_size", "strides", "padding", "data_format", "output_padding",
        "dilation_rate", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint",
    ),
    "ConvLSTM1D": _CONV_LSTM,
    "ConvLSTM2D": _CONV_LSTM,
    "ConvLSTM3D": _CONV_LSTM,
    "Cropping1D": ("cropping",),
    "Cropping2D": ("cropping", "data_format"),
    "Cropping3D": ("cropping", "data_format"),
    "CutMix": ("factor", "seed", "data_format"),
    "Dense": (
        "units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint", "lora_rank", "lora_alpha",
        "quantization_config",
    ),
    "DepthwiseConv1D": _DEPTHWISE_CONV,
    "DepthwiseConv2D": _DEPTHWISE_CONV,
    "Discretization": (
        "bin_boundaries", "num_bins", "epsilon", "output_mode", "sparse", "dtype", "name",
    ),
    "Dot": ("axes", "normalize"),
    "Dropout": ("rate", "noise_shape", "seed"),
    "ELU": ("alpha",),
    "EinsumDense": (
        "equation", "output_shape", "activation", "bias_axes", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer", "kernel_constraint",
        "bias_constraint", "lora_rank", "lora_alpha", "gptq_unpacked_column_size",
        "quantization_config",
    ),
    "Embedding": (
        "input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
        "embeddings_constraint", "mask_zero", "weights", "lora_rank", "lora_alpha",
        "quantization_config",
    ),
    "Equalization": ("value_range", "bins", "data_format"),
    "Flatten": ("data_format",),
    "FlaxLayer": ("module", "method", "variables"),
    "GRU": (
        "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
        "recurrent_dropout", "seed", "return_sequences", "return_state", "go_backwards",
        "stateful", "unroll", "reset_after", "use_cudnn",
    ),
    "GRUCell": (
        "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
        "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
        "reset_after", "seed",
    ),
    "GaussianDropout": ("rate", "seed"),
    "GaussianNoise": ("stddev", "seed"),
    "GlobalAveragePooling1D": _GLOBAL_POOL,
    "GlobalAveragePooling2D": _GLOBAL_POOL,
    "GlobalAveragePooling3D": _GLOBAL_POOL,
    "GlobalMaxPooling1D": _GLOBAL_POOL,
    "GlobalMaxPooling2D": _GLOBAL_POOL,
    "GlobalMaxPooling3D": _GLOBAL_POOL,
    "GroupNormalization": (
        "groups", "axis", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint",
        "gamma_constraint",
    ),
    "GroupedQueryAttention": (
        "head_dim", "num_query_heads", "num_key_value_heads", "dropout", "use_bias",
        "sliding_window", "flash_attention", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint", "use_gate", "seed",
    ),
    "HashedCrossing": ("num_bins", "output_mode", "sparse", "name", "dtype"),
    "Hashing": ("num_bins", "mask_value", "salt", "output_mode", "sparse"),
    "Identity": (),
    "InputLayer": (
        "shape", "batch_size", "dtype", "sparse", "ragged", "batch_shape", "input_tensor",
        "optional", "name",
    ),
    "IntegerLookup": (
        "max_tokens", "num_oov_indices", "mask_token", "oov_token", "vocabulary",
        "vocabulary_dtype", "idf_weights", "invert", "output_mode", "sparse",
        "pad_to_max_tokens", "oov_method", "salt", "name",
    ),
    "JaxLayer": (
        "call_fn", "init_fn", "params", "state", "seed", "native_serialization_platforms",
    ),
    "LSTM": (
        "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "unit_forget_bias",
        "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "dropout", "recurrent_dropout", "seed", "return_sequences",
        "return_state", "go_backwards", "stateful", "unroll", "use_cudnn",
    ),
    "LSTMCell": (
        "units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "unit_forget_bias",
        "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
        "recurrent_dropout", "seed",
    ),
    "Lambda": ("function", "output_shape", "mask", "arguments"),
    "Layer": (),
    "LayerNormalization": (
        "axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
        "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
    ),
    "LeakyReLU": ("negative_slope",),
    "Masking": ("mask_value",),
    "MaxNumBoundingBoxes": ("max_number", "fill_value"),
    "MaxPooling1D": _POOL,
    "MaxPooling2D": _POOL,
    "MaxPooling3D": _POOL,
    "Maximum": (),
    "MelSpectrogram": (
        "fft_length", "sequence_stride", "sequence_length", "window", "sampling_rate",
        "num_mel_bins", "min_freq", "max_freq", "power_to_db", "top_db", "mag_exp",
        "min_power", "ref_power",
    ),
    "Minimum": (),
    "MixUp": ("alpha", "data_format", "seed"),
    "MultiHeadAttention": (
        "num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
        "attention_axes", "sliding_window", "flash_attention", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "bias_constraint", "use_gate", "seed",
    ),
    "Multiply": (),
    "Normalization": ("axis", "mean", "variance", "invert"),
    "PReLU": ("alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"),
    "Permute": ("dims",),
    "Pipeline": ("layers", "name"),
    "RMSNormalization": ("axis", "epsilon"),
    "RNN": (
        "cell", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
        "zero_output_for_mask",
    ),
    "RandAugment": (
        "value_range", "num_ops", "factor", "interpolation", "seed", "data_format",
    ),
    "RandomBrightness": ("factor", "value_range", "seed"),
    "RandomColorDegeneration": ("factor", "value_range", "data_format", "seed"),
    "RandomColorJitter": (
        "value_range", "brightness_factor", "contrast_factor", "saturation_factor",
        "hue_factor", "seed", "data_format",
    ),
    "RandomContrast": ("factor", "value_range", "seed"),
    "RandomCrop": ("height", "width", "seed", "data_format", "name"),
    "RandomElasticTransform": (
        "factor", "scale", "interpolation", "fill_mode", "fill_value", "value_range",
        "seed", "data_format",
    ),
    "RandomErasing": ("factor", "scale", "fill_value", "value_range", "seed", "data_format"),
    "RandomFlip": ("mode", "seed", "data_format"),
    "RandomGaussianBlur": (
        "factor", "kernel_size", "sigma", "value_range", "data_format", "seed",
    ),
    "RandomGrayscale": ("factor", "data_format", "seed"),
    "RandomHue": ("factor", "value_range", "data_format", "seed"),
    "RandomInvert": ("factor", "value_range", "seed", "data_format"),
    "RandomPerspective": (
        "factor", "scale", "interpolation", "fill_value", "seed", "data_format",
    ),
    "RandomPosterization": ("factor", "value_range", "data_format", "seed"),
    "RandomRotation": (
        "factor", "fill_mode", "interpolation", "seed", "fill_value", "data_format",
    ),
    "RandomSaturation": ("factor", "value_range", "data_format", "seed"),
    "RandomSharpness": ("factor", "value_range", "data_format", "seed"),
    "RandomShear": (
        "x_factor", "y_factor", "interpolation", "fill_mode", "fill_value", "data_format",
        "seed",
    ),
    "RandomTranslation": (
        "height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value",
        "data_format",
    ),
    "RandomZoom": (
        "height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value",
        "data_format",
    ),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "RepeatVector": ("n",),
    "Rescaling": ("scale", "offset"),
    "Reshape": ("target_shape",),
    "Resizing": (
        "height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio",
        "fill_mode", "fill_value", "antialias", "data_format",
    ),
    "ReversibleEmbedding": (
        "input_dim", "output_dim", "tie_weights", "embeddings_initializer",
        "embeddings_regularizer", "embeddings_constraint", "mask_zero", "reverse_dtype",
        "logit_soft_cap",
    ),
    "STFTSpectrogram": (
        "mode", "frame_length", "frame_step", "fft_length", "window", "periodic", "scaling",
        "padding", "expand_dims", "data_format",
    ),
    "SeparableConv1D": _SEPARABLE_CONV,
    "SeparableConv2D": _SEPARABLE_CONV,
    "SimpleRNN": (
        "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
        "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
        "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "seed",
    ),
    "SimpleRNNCell": (
        "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
        "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
        "dropout", "recurrent_dropout", "seed",
    ),
    "Softmax": ("axis",),
    "Solarization": ("addition_factor", "threshold_factor", "value_range", "seed"),
    "SpatialDropout1D": ("rate", "seed", "name", "dtype"),
    "SpatialDropout2D": ("rate", "data_format", "seed", "name", "dtype"),
    "SpatialDropout3D": ("rate", "data_format", "seed", "name", "dtype"),
    "SpectralNormalization": ("layer", "power_iterations"),
    "StackedRNNCells": ("cells",),
    "StringLookup": (
        "max_tokens", "num_oov_indices", "mask_token", "oov_token", "vocabulary",
        "idf_weights", "invert", "output_mode", "pad_to_max_tokens", "sparse", "encoding",
        "name", "salt",
    ),
    "Subtract": (),
    "TFSMLayer": (
        "filepath", "call_endpoint", "call_training_endpoint", "trainable", "name", "dtype",
    ),
    "TextVectorization": (
        "max_tokens", "standardize", "split", "ngrams", "output_mode",
        "output_sequence_length", "pad_to_max_tokens", "vocabulary", "idf_weights",
        "sparse", "ragged", "encoding", "name",
    ),
    "TimeDistributed": ("layer",),
    "TorchModuleWrapper": ("module", "name", "output_shape"),
    "UnitNormalization": ("axis",),
    "UpSampling1D": ("size",),
    "UpSampling2D": ("size", "data_format", "interpolation"),
    "UpSampling3D": ("size", "data_format"),
    "Wrapper": ("layer",),
    "ZeroPadding1D": ("padding", "data_format"),
    "ZeroPadding2D": ("padding", "data_format"),
    "ZeroPadding3D": ("padding", "data_format"),
    # ---- tf.keras 2.x classes with no Keras 3 successor ----
    "LocallyConnected1D": (
        "filters", "kernel_size", "strides", "padding", "data_format", "activation",
        "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
        "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
        "implementation",
    ),
    "LocallyConnected2D": (
        "filters", "kernel_size", "strides", "padding", "data_format", "activation",
        "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
        "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
        "implementation",
    ),
    "ThresholdedReLU": ("theta",),
    "CuDNNGRU": (
        "units", "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "return_sequences", "return_state", "stateful",
    ),
    "CuDNNLSTM": (
        "units", "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
        "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "recurrent_constraint", "bias_constraint", "return_sequences", "return_state",
        "stateful",
    ),
    # ---- Keras 1 spellings, keyed by the name AS WRITTEN ----
    # Their positional order differs from the canonical class's. Where the name
    # is also a Keras 2+ alias (Convolution2D, SeparableConvolution2D,
    # Deconvolution2D) the call may be either form: positional_params() decides.
    # Only the two arguments Keras 1 and Keras 2+ agree on: a third positional
    # argument is Keras 2+ code (strides), Keras 1 code passes it by keyword.
    "Convolution1D": ("nb_filter", "filter_length"),
    "AtrousConvolution1D": (
        "nb_filter", "filter_length", "init", "activation", "weights", "border_mode",
        "subsample_length", "atrous_rate", "W_regularizer", "b_regularizer",
        "activity_regularizer", "W_constraint", "b_constraint", "bias",
    ),
    "Convolution2D": (
        "nb_filter", "nb_row", "nb_col", "init", "activation", "weights", "border_mode",
        "subsample", "dim_ordering", "W_regularizer", "b_regularizer",
        "activity_regularizer", "W_constraint", "b_constraint", "bias",
    ),
    "AtrousConvolution2D": (
        "nb_filter", "nb_row", "nb_col", "init", "activation", "weights", "border_mode",
        "subsample", "atrous_rate", "dim_ordering", "W_regularizer", "b_regularizer",
        "activity_regularizer", "W_constraint", "b_constraint", "bias",
    ),
    "SeparableConvolution2D": (
        "nb_filter", "nb_row", "nb_col", "init", "activation", "weights", "border_mode",
        "subsample", "depth_multiplier", "dim_ordering", "depthwise_regularizer",
        "pointwise_regularizer", "b_regularizer", "activity_regularizer",
        "depthwise_constraint", "pointwise_constraint", "b_constraint", "bias",
    ),
    "Deconvolution2D": (
        "nb_filter", "nb_row", "nb_col", "output_shape", "init", "activation", "weights",
        "border_mode", "subsample", "dim_ordering", "W_regularizer", "b_regularizer",
        "activity_regularizer", "W_constraint", "b_constraint", "bias",
    ),
    "Convolution3D": (
        "nb_filter", "kernel_dim1", "kernel_dim2", "kernel_dim3", "init", "activation",
        "weights", "border_mode", "subsample", "dim_ordering", "W_regularizer",
        "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias",
    ),
    "TimeDistributedDense": (
        "output_dim", "init", "activation", "weights", "W_regularizer", "b_regularizer",
        "activity_regularizer", "W_constraint", "b_constraint", "bias", "input_dim",
        "input_length",
    ),
}

# Keras 1 keyword -> Keras 3 keyword, per canonical class (the conversions
# Keras 2 applied on load, plus the few Keras 2 -> 3 renames). Only real
# renames: Keras 1 arguments with no successor (BatchNormalization's mode,
# Embedding's dropout, recurrent consume_less, SeparableConvolution2D's init,
# which fed two initializers) are absent, and so is anything that merges into
# kernel_size (see KERAS1_KERNEL_SIZE).
_KERAS1_DENSE = {
    "output_dim": "units",
    "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint",
    "bias": "use_bias",
}
_KERAS1_CONV = {
    "nb_filter": "filters",
    "subsample": "strides",
    "border_mode": "padding",
    "dim_ordering": "data_format",
    "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint",
    "bias": "use_bias",
}
_KERAS1_CONV1D = {
    **{k: v for k, v in _KERAS1_CONV.items() if k not in ("subsample", "dim_ordering")},
    "filter_length": "kernel_size",
    "subsample_length": "strides",
    "atrous_rate": "dilation_rate",  # AtrousConvolution1D
}
_KERAS1_RNN = {
    "output_dim": "units",
    "init": "kernel_initializer",
    "inner_init": "recurrent_initializer",
    "inner_activation": "recurrent_activation",
    "W_regularizer": "kernel_regularizer",
    "U_regularizer": "recurrent_regularizer",
    "b_regularizer": "bias_regularizer",
    "dropout_W": "dropout",
    "dropout_U": "recurrent_dropout",
}
_KERAS1_POOL1D = {"pool_length": "pool_size", "stride": "strides", "border_mode": "padding"}
_KERAS1_POOL = {"border_mode": "padding", "dim_ordering": "data_format"}
_KERAS1_DIM_ORDERING = {"dim_ordering": "data_format"}

KERAS1_KWARGS = {
    "Dense": {**_KERAS1_DENSE},
    "Dropout": {"p": "rate"},
    "SpatialDropout1D": {"p": "rate"},
    "SpatialDropout2D": {"p": "rate", **_KERAS1_DIM_ORDERING},
    "SpatialDropout3D": {"p": "rate", **_KERAS1_DIM_ORDERING},
    "GaussianDropout": {"p": "rate"},
    "GaussianNoise": {"sigma": "stddev"},
    "BatchNormalization": {"beta_init": "beta_initializer", "gamma_init": "gamma_initializer"},
    "Embedding": {
        "init": "embeddings_initializer",
        "W_regularizer": "embeddings_regularizer",
        "W_constraint": "embeddings_constraint",
    },
    "Conv1D": {**_KERAS1_CONV1D},
    "Conv2D": {**_KERAS1_CONV, "atrous_rate": "dilation_rate"},  # AtrousConvolution2D
    "Conv3D": {**_KERAS1_CONV},
    "Conv2DTranspose": {**_KERAS1_CONV},  # Deconvolution2D
    "SeparableConv2D": {
        k: v for k, v in _KERAS1_CONV.items()
        if k not in ("init", "W_regularizer", "W_constraint")
    },
    "ConvLSTM2D": {
        **_KERAS1_CONV, **{k: v for k, v in _KERAS1_RNN.items() if k != "output_dim"}
    },
    "SimpleRNN": {k: v for k, v in _KERAS1_RNN.items() if k != "inner_activation"},
    "GRU": {**_KERAS1_RNN},
    "LSTM": {**_KERAS1_RNN},
    "MaxPooling1D": {**_KERAS1_POOL1D},
    "AveragePooling1D": {**_KERAS1_POOL1D},
    "MaxPooling2D": {**_KERAS1_POOL},
    "MaxPooling3D": {**_KERAS1_POOL},
    "AveragePooling2D": {**_KERAS1_POOL},
    "AveragePooling3D": {**_KERAS1_POOL},
    "GlobalMaxPooling2D": {**_KERAS1_DIM_ORDERING},
    "GlobalMaxPooling3D": {**_KERAS1_DIM_ORDERING},
    "GlobalAveragePooling2D": {**_KERAS1_DIM_ORDERING},
    "GlobalAveragePooling3D": {**_KERAS1_DIM_ORDERING},
    "UpSampling1D": {"length": "size"},
    "UpSampling2D": {**_KERAS1_DIM_ORDERING},
    "UpSampling3D": {**_KERAS1_DIM_ORDERING},
    "ZeroPadding2D": {**_KERAS1_DIM_ORDERING},
    "ZeroPadding3D": {**_KERAS1_DIM_ORDERING},
    "Cropping2D": {**_KERAS1_DIM_ORDERING},
    "Cropping3D": {**_KERAS1_DIM_ORDERING},
    "PReLU": {"init": "alpha_initializer"},
    # Keras 2 -> Keras 3 (Keras 3 still accepts the old names, with a warning).
    "LeakyReLU": {"alpha": "negative_slope"},
    "InputLayer": {
        "input_shape": "shape",
        "batch_input_shape": "batch_shape",
        "input_dtype": "dtype",  # Keras 1
    },
}

# Keras 1 keywords that together make up kernel_size (in order), per canonical
# class: Convolution2D(64, nb_row=3, nb_col=3) is kernel_size=(3, 3).
KERAS1_KERNEL_SIZE = {
    "Conv2D": ("nb_row", "nb_col"),
    "Conv2DTranspose": ("nb_row", "nb_col"),
    "SeparableConv2D": ("nb_row", "nb_col"),
    "ConvLSTM2D": ("nb_row", "nb_col"),
    "Conv3D": ("kernel_dim1", "kernel_dim2", "kernel_dim3"),
}

# Legacy values, keyed by the Keras 3 keyword they end up in. "default" meant
# keras.json's setting, whose default is "tf" (channels_last).
KERAS1_VALUES = {
    "data_format": {"tf": "channels_last", "th": "channels_first", "default": "channels_last"},
}


def positional_params(class_name, args=None):
    """Parameter names of the positional arguments of a call ``class_name(*args)``.

    ``class_name`` is the name as written. ``args`` are the positional values
    as far as they are known (any placeholder for unknown ones will do); only
    their count and whether a value is a tuple/list matter. Returns ``None``
    for a class this module does not know.

    A Keras 1 spelling gets its Keras 1 order, except where the same name is
    also a Keras 2+ alias and the call reads as Keras 2+: more arguments than
    the Keras 1 form has, or a tuple/list where Keras 1 wants nb_row/nb_col
    (Keras 2 used the same test when it loaded Keras 1 code).
    """
    canonical = canonical_class(class_name)
    modern = POSITIONAL_PARAMS.get(canonical)
    legacy = POSITIONAL_PARAMS.get(class_name) if class_name != canonical else None
    if legacy is None:
        return modern
    if args is None:
        return legacy
    args = tuple(args)
    if len(args) > len(legacy):
        return modern if modern is not None else legacy
    dims = KERAS1_KERNEL_SIZE.get(canonical, ())
    if dims and class_name in _SHARED_KERAS1_NAMES:
        kernel_args = args[1:1 + len(dims)]
        if len(kernel_args) < len(dims) or any(
            isinstance(a, (tuple, list)) for a in kernel_args
        ):
            return modern
    return legacy


# Keras 1 spellings that Keras 2+ kept as aliases, so a call may be in either form.
_SHARED_KERAS1_NAMES = frozenset(
    {"Convolution1D", "Convolution2D", "Convolution3D", "SeparableConvolution2D",
     "Deconvolution2D"}
)


# ---------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------

_CONV_DEFAULTS = {"data_format": "channels_last", "activation": "linear", "use_bias": True}
_RNN_DEFAULTS = {"activation": "tanh", "use_bias": True}
_CHANNELS_LAST = {"data_format": "channels_last"}
_BN_DEFAULTS = {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True}

# Every non-"other" canonical class has an entry (empty when none of the keys
# applies), so a missing entry means "unknown class", not "no defaults".
# Each entry is its own dict: callers may copy and update it.
DEFAULT_CONFIG = {
    # conv
    "Conv1D": {**_CONV_DEFAULTS},
    "Conv2D": {**_CONV_DEFAULTS},
    "Conv3D": {**_CONV_DEFAULTS},
    "Conv1DTranspose": {**_CONV_DEFAULTS},
    "Conv2DTranspose": {**_CONV_DEFAULTS},
    "Conv3DTranspose": {**_CONV_DEFAULTS},
    "DepthwiseConv1D": {**_CONV_DEFAULTS},
    "DepthwiseConv2D": {**_CONV_DEFAULTS},
    "SeparableConv1D": {**_CONV_DEFAULTS},
    "SeparableConv2D": {**_CONV_DEFAULTS},
    "LocallyConnected1D": {**_CONV_DEFAULTS},
    "LocallyConnected2D": {**_CONV_DEFAULTS},
    # dense; EinsumDense has no use_bias (its bias comes from bias_axes)
    "Dense": {"activation": "linear", "use_bias": True},
    "EinsumDense": {"activation": "linear"},
    # batchnorm
    "BatchNormalization": {**_BN_DEFAULTS},
    # Not a learned normalisation ("other"), but its axis is what Keras saves.
    "Normalization": {"axis": -1},
    # norm
    "LayerNormalization": {"axis": -1, "epsilon": 0.001, "center": True, "scale": True},
    "GroupNormalization": {"axis": -1, "epsilon": 0.001, "center": True, "scale": True},
    "UnitNormalization": {"axis": -1},
    "RMSNormalization": {"axis": -1, "epsilon": 1e-06},
    # activation; Activation's argument is required
    "Activation": {},
    "ReLU": {},
    "LeakyReLU": {},
    "PReLU": {},
    "ELU": {},
    "Softmax": {"axis": -1},
    "ThresholdedReLU": {},
    "ParametricSoftplus": {},
    "SReLU": {},
    # dropout; rate is required
    "Dropout": {},
    "SpatialDropout1D": {},
    "SpatialDropout2D": {**_CHANNELS_LAST},
    "SpatialDropout3D": {**_CHANNELS_LAST},
    "GaussianDropout": {},
    "AlphaDropout": {},
    # pool
    "AveragePooling1D": {**_CHANNELS_LAST},
    "AveragePooling2D": {**_CHANNELS_LAST},
    "AveragePooling3D": {**_CHANNELS_LAST},
    "MaxPooling1D": {**_CHANNELS_LAST},
    "MaxPooling2D": {**_CHANNELS_LAST},
    "MaxPooling3D": {**_CHANNELS_LAST},
    "GlobalAveragePooling1D": {**_CHANNELS_LAST},
    "GlobalAveragePooling2D": {**_CHANNELS_LAST},
    "GlobalAveragePooling3D": {**_CHANNELS_LAST},
    "GlobalMaxPooling1D": {**_CHANNELS_LAST},
    "GlobalMaxPooling2D": {**_CHANNELS_LAST},
    "GlobalMaxPooling3D": {**_CHANNELS_LAST},
    "AdaptiveAveragePooling1D": {**_CHANNELS_LAST},
    "AdaptiveAveragePooling2D": {**_CHANNELS_LAST},
    "AdaptiveAveragePooling3D": {**_CHANNELS_LAST},
    "AdaptiveMaxPooling1D": {**_CHANNELS_LAST},
    "AdaptiveMaxPooling2D": {**_CHANNELS_LAST},
    "AdaptiveMaxPooling3D": {**_CHANNELS_LAST},
    # merge
    "Add": {},
    "Subtract": {},
    "Multiply": {},
    "Average": {},
    "Maximum": {},
    "Minimum": {},
    "Concatenate": {"axis": -1},
    "Dot": {},
    "Merge": {},
    # reshape
    "Flatten": {**_CHANNELS_LAST},
    "Reshape": {},
    "Permute": {},
    "RepeatVector": {},
    "Cropping1D": {},
    "Cropping2D": {**_CHANNELS_LAST},
    "Cropping3D": {**_CHANNELS_LAST},
    "UpSampling1D": {},
    "UpSampling2D": {**_CHANNELS_LAST},
    "UpSampling3D": {**_CHANNELS_LAST},
    "ZeroPadding1D": {**_CHANNELS_LAST},
    "ZeroPadding2D": {**_CHANNELS_LAST},
    "ZeroPadding3D": {**_CHANNELS_LAST},
    "Identity": {},
    # embedding
    "Embedding": {},
    "ReversibleEmbedding": {},
    "DynamicEmbedding": {},
    # recurrent; the CuDNN layers have fixed activations and always a bias
    "RNN": {},
    "SimpleRNN": {**_RNN_DEFAULTS},
    "GRU": {**_RNN_DEFAULTS},
    "LSTM": {**_RNN_DEFAULTS},
    "SimpleRNNCell": {**_RNN_DEFAULTS},
    "GRUCell": {**_RNN_DEFAULTS},
    "LSTMCell": {**_RNN_DEFAULTS},
    "StackedRNNCells": {},
    "Bidirectional": {},
    "ConvLSTM1D": {**_CHANNELS_LAST, **_RNN_DEFAULTS},
    "ConvLSTM2D": {**_CHANNELS_LAST, **_RNN_DEFAULTS},
    "ConvLSTM3D": {**_CHANNELS_LAST, **_RNN_DEFAULTS},
    "AbstractRNNCell": {},
    "CuDNNGRU": {},
    "CuDNNLSTM": {},
    "PeepholeLSTMCell": {**_RNN_DEFAULTS},
    "DeviceWrapper": {},
    "DropoutWrapper": {},
    "ResidualWrapper": {},
    "Recurrent": {},
    "ConvRecurrent2D": {},
    # attention
    "Attention": {},
    "AdditiveAttention": {},
    "MultiHeadAttention": {"use_bias": True},
    "GroupedQueryAttention": {"use_bias": True},
}


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------

# Activation-kind layer -> what it applies. Activation itself takes an argument.
ACTIVATION_LAYERS = {
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "PReLU": "prelu",
    "ELU": "elu",
    "Softmax": "softmax",
    "ThresholdedReLU": "thresholded_relu",
    "ParametricSoftplus": "parametric_softplus",  # Keras 1
    "SReLU": "srelu",  # Keras 1
}

# Every identifier keras.activations.get accepts in Keras 3.15 -> the function's
# __name__, which is what Keras serialises (swish is stored as "silu").
_KERAS_ACTIVATIONS = {
    "celu": "celu",
    "elu": "elu",
    "exponential": "exponential",
    "gelu": "gelu",
    "glu": "glu",
    "hard_shrink": "hard_shrink",
    "hard_sigmoid": "hard_sigmoid",
    "hard_silu": "hard_silu",
    "hard_swish": "hard_silu",
    "hard_tanh": "hard_tanh",
    "leaky_relu": "leaky_relu",
    "linear": "linear",
    "log_sigmoid": "log_sigmoid",
    "log_softmax": "log_softmax",
    "mish": "mish",
    "relu": "relu",
    "relu6": "relu6",
    "selu": "selu",
    "sigmoid": "sigmoid",
    "silu": "silu",
    "soft_shrink": "soft_shrink",
    "softmax": "softmax",
    "softplus": "softplus",
    "softsign": "softsign",
    "sparse_plus": "sparse_plus",
    "sparse_sigmoid": "sparse_sigmoid",
    "sparsemax": "sparsemax",
    "squareplus": "squareplus",
    "swish": "silu",
    "tanh": "tanh",
    "tanh_shrink": "tanh_shrink",
    "threshold": "threshold",
}

# Activation functions by namespace (qualified names as the reader normalises
# them: tf.keras / tf_keras / keras.src all arrive as keras.*).
_TF_NN = frozenset({
    "crelu", "elu", "gelu", "leaky_relu", "log_softmax", "relu", "relu6", "selu",
    "sigmoid", "silu", "softmax", "softplus", "softsign", "swish", "tanh",
})
_TF_MATH = frozenset({
    "log_sigmoid", "log_softmax", "sigmoid", "softmax", "softplus", "softsign", "tanh",
})
# keras.ops functions that are also keras.activations (exponential, linear and
# mish have no ops counterpart; ops.exp is general arithmetic, not counted).
_KERAS_OPS = frozenset({
    "celu", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid", "log_softmax", "relu",
    "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink", "threshold",
})
_FUNCTIONS_BY_NAMESPACE = {
    "keras.activations": frozenset(_KERAS_ACTIVATIONS),
    "keras.activations.activations": frozenset(_KERAS_ACTIVATIONS),  # keras.src path
    "keras.ops": _KERAS_OPS,
    "keras.ops.nn": _KERAS_OPS - {"tanh"},
    "keras.ops.numpy": frozenset({"tanh"}),
    # tf.keras 2.x backend functions (Keras 3's keras.backend has none).
    "keras.backend": frozenset({
        "elu", "hard_sigmoid", "relu", "sigmoid", "softmax", "softplus", "softsign", "tanh",
    }),
    "tensorflow.nn": _TF_NN,
    "tensorflow.math": _TF_MATH,
    "tensorflow": frozenset({"sigmoid", "tanh"}),
}

ACTIVATION_FUNCTIONS = frozenset(_KERAS_ACTIVATIONS) | _TF_NN | _TF_MATH

#: Squashing functions: output and gating functions rather than hidden nonlinearities.
SQUASHING_ACTIVATIONS = frozenset({"softmax", "log_softmax", "sigmoid", "hard_sigmoid", "log_sigmoid", "sparsemax"})


def own_function_activation(name, partial=False):
    """The ``activation`` of a layer given a function of the code's own that applies a hidden nonlinearity.

    ``"<function swish>"`` (``"<lambda>"`` for a lambda), as Python shows the
    function; ``"<partial leaky_relu>"`` for a ``functools.partial`` of one
    (or of a Keras activation with other arguments). No Keras activation
    name starts with ``<``.
    """
    if partial:
        return f"<partial {name}>"
    return "<lambda>" if name == "<lambda>" else f"<function {name}>"


def own_class_activation(name):
    """The ``activation`` of a layer class of the code's own that applies a hidden nonlinearity: ``"<class Mish>"``."""
    return f"<class {name}>"


def layer_kind(class_name, config):
    """:func:`kind_of`, except that a ``Lambda`` layer whose function is an activation, or a layer class of
    the code's own that is one (:func:`own_class_activation`), is an activation."""
    activation = config.get("activation")
    if isinstance(activation, str) and (class_name == "Lambda" or activation.startswith("<class ")):
        return "activation"
    return kind_of(class_name)


def is_own_function(activation):
    """Whether *activation* is :func:`own_function_activation`'s (a Keras name cannot be written for it)."""
    return isinstance(activation, str) and activation.startswith("<")

# Modules Keras writes into a serialised plain function ({"class_name": "function"}).
_FUNCTION_MODULES = frozenset(
    {"builtins", "keras.activations", "keras.src.activations.activations"}
)


def activation_name(identifier):
    """Canonical name of an ``activation=`` argument, or ``None`` if Keras would reject it.

    ``None`` means no activation, i.e. ``"linear"``. Strings are case-sensitive,
    as in Keras (``"ReLU"`` is not an activation). A serialised function
    (``{"class_name": "function", "config": "relu", ...}``) is read too.
    """
    if identifier is None:
        return "linear"
    if isinstance(identifier, dict):
        if identifier.get("class_name") != "function":
            return None
        if identifier.get("module", "builtins") not in _FUNCTION_MODULES:
            return None
        identifier = identifier.get("config")
    if not isinstance(identifier, str):
        return None
    return _KERAS_ACTIVATIONS.get(identifier)


def applied_activation(layer):
    """The activation a graph layer applies: its ``activation`` argument (``Activation("relu")``, a
    fused ``Conv2D(..., activation="relu")``), or for an activation layer class without one (``ReLU``,
    ``Softmax`` ...) the function the class is; ``None`` for a layer of another kind. May be UNKNOWN."""
    if layer.kind == "activation":
        if layer.class_name == "Activation" or "activation" in layer.config:
            return layer.get("activation")
        return ACTIVATION_LAYERS.get(layer.class_name, layer.class_name)
    if layer.kind in ("conv", "dense"):
        return layer.get("activation")
    return None


def activation_of_function(qualname):
    """The activation computed by a called function, e.g. ``"tensorflow.nn.relu"`` -> ``"relu"``.

    Returns ``None`` for anything that is not an activation (``keras.ops.add``,
    ``tensorflow.nn.conv2d``) or not a string.
    """
    if not isinstance(qualname, str):
        return None
    # (Keras 2's TensorFlow backend module imports TensorFlow as `tf`: efficientnet calls backend.tf.nn.swish.)
    for prefix in ("tensorflow.compat.v1.", "tensorflow.compat.v2.", "tf.", "keras.backend.tf."):
        if qualname.startswith(prefix):
            qualname = "tensorflow." + qualname[len(prefix):]
            break
    namespace, _, name = qualname.rpartition(".")
    if name not in _FUNCTIONS_BY_NAMESPACE.get(namespace, ()):
        return None
    return _KERAS_ACTIVATIONS.get(name, name)


# ---------------------------------------------------------------------------
# Names and axes
# ---------------------------------------------------------------------------

# tf.keras classes that were classes of their own (so named after themselves),
# even though Keras 3 spells them differently.
_OWN_AUTO_NAME = frozenset({"SyncBatchNormalization"})


def to_snake_case(class_name):
    """The name prefix Keras gives an unnamed instance of ``class_name``.

    Keras names a layer after its class's ``__name__``, so aliases are resolved
    first (``MaxPool2D`` -> ``max_pooling2d``). A word break goes before a
    capital that follows a lower-case letter, and before a capital that starts
    a capitalised word (``Conv2DTranspose`` -> ``conv2d_transpose``,
    ``ReLU`` -> ``re_lu``).
    """
    found = _SNAKE_CASE.get(class_name)
    if found is not None:
        return found
    name = class_name if class_name in _OWN_AUTO_NAME else canonical_class(class_name)
    chars = [c for c in name if c == "_" or c.isalnum()]
    out = []
    for i, c in enumerate(chars):
        if i and "A" <= c <= "Z":
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if "a" <= chars[i - 1] <= "z" or "a" <= after <= "z":
                out.append("_")
        out.append(c)
    found = "".join(out).lower()
    if len(_SNAKE_CASE) < 4096:  # every unnamed layer asks: remember the classes a run meets
        _SNAKE_CASE[class_name] = found
    return found


_SNAKE_CASE: dict[str, str] = {}


# Number of spatial dimensions of layers whose output has a channel axis that
# depends on data_format.
_SPATIAL_RANK = {
    "Conv1D": 1,
    "Conv2D": 2,
    "Conv3D": 3,
    "Conv1DTranspose": 1,
    "Conv2DTranspose": 2,
    "Conv3DTranspose": 3,
    "DepthwiseConv1D": 1,
    "DepthwiseConv2D": 2,
    "SeparableConv1D": 1,
    "SeparableConv2D": 2,
    "LocallyConnected1D": 1,
    "LocallyConnected2D": 2,
    # recurrent, but a BN after a ConvLSTM is common enough to answer for
    "ConvLSTM1D": 1,
    "ConvLSTM2D": 2,
    "ConvLSTM3D": 3,
}

_DATA_FORMATS = {
    "channels_last": "channels_last",
    "channels_first": "channels_first",
    **KERAS1_VALUES["data_format"],
}


# Layers whose output has the rank of their (first) input.
_SAME_RANK = frozenset({
    "InputLayer", "Dense", "EinsumDense", "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "UnitNormalization", "Normalization", "Rescaling", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU",
    "Softmax", "ThresholdedReLU", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Masking", "Add",
    "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Permute",
})
# Class-name stems of the layers that keep their input's rank in any dimension (Conv2D, MaxPooling3D...).
_SAME_RANK_STEMS = ("Conv", "Pooling", "ZeroPadding", "Cropping", "UpSampling")


def declared_rank(config: dict) -> int | None:
    """The rank of the input a serialised ``InputLayer`` (or a Sequential's first layer) declares, if any.

    >>> declared_rank({"batch_input_shape": [None, 8, 8, 3]}), declared_rank({"batch_shape": [None, 5]})
    (4, 2)
    """
    shape = config.get("batch_input_shape") or config.get("batch_shape")  # Keras 2, Keras 3
    return len(shape) if isinstance(shape, (list, tuple)) else None


def output_rank(class_name: str, config: dict, rank_in: int | None) -> int | None:
    """The rank of a layer's first output when its first input has rank *rank_in*; None when unknown.

    For saved Keras 2 models, which record no shapes: ranks are propagated
    from the ``InputLayer`` shapes through the layers known here.

    >>> output_rank("Dense", {}, 3), output_rank("Flatten", {}, 4), output_rank("Lambda", {}, 4)
    (3, 2, None)
    """
    class_name = canonical_class(class_name)
    if class_name == "Flatten":
        return 2
    if class_name.startswith("Global"):
        return rank_in if config.get("keepdims") is True else 2
    if class_name == "Reshape":
        target = config.get("target_shape")
        return len(target) + 1 if isinstance(target, (list, tuple)) else None
    if class_name == "RepeatVector":
        return 3
    if class_name in ("LSTM", "GRU", "SimpleRNN"):
        return 3 if config.get("return_sequences") is True else 2
    if rank_in is None:
        return None
    if class_name.startswith("ConvLSTM"):
        return rank_in if config.get("return_sequences") is True else rank_in - 1
    if class_name in _SAME_RANK or any(stem in class_name for stem in _SAME_RANK_STEMS):
        return rank_in
    return None


def channel_axes(class_name, config):
    """Equivalent axis integers of the channel axis of a layer's output, or ``None``.

    Conv2D channels_last -> {-1, 3}; channels_first -> {1, -3}; dense kind ->
    {-1} (the input rank is not known, so only the negative index). ``None``
    for other layers and when the answer depends on a value that is not a known
    string / bool (the reader stores unknown values as a non-str sentinel).
    A missing data_format means the Keras default, channels_last.
    """
    canonical = canonical_class(class_name)
    if kind_of(canonical) == "dense":
        return frozenset({-1})
    rank = _SPATIAL_RANK.get(canonical)
    if rank is None:
        return None
    config = config or {}
    if "data_format" in config:
        data_format = config["data_format"]
    else:
        data_format = config.get("dim_ordering", "channels_last")
    if not isinstance(data_format, str) or data_format not in _DATA_FORMATS:
        return None
    ndim = rank + 2
    if canonical.startswith("ConvLSTM"):
        return_sequences = config.get("return_sequences", False)
        if not isinstance(return_sequences, bool):
            return None
        ndim += return_sequences  # a time axis after the batch axis
    if _DATA_FORMATS[data_format] == "channels_last":
        return frozenset({-1, ndim - 1})
    return frozenset({ndim - rank - 1, -(rank + 1)})


def batchnorm_axis(class_name, config):
    """The ``axis`` for a BatchNormalization after a layer: -1, or the channel axis of a channels_first layer.

    -1 (Keras' default) where the channel axis is last or cannot be known.
    """
    axes = channel_axes(class_name, config)
    return -1 if axes is None or -1 in axes else min(a for a in axes if a >= 0)
