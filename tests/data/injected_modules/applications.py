"""The package's builders with Keras' modules injected, as users import them."""

from . import inject_keras_modules, tinynet

TinyNet = inject_keras_modules(tinynet.TinyNet)
TinyNetWide = inject_keras_modules(tinynet.TinyNetWide)
