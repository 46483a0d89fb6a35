"""A GAN in the style of Keras-GAN: a plain class whose ``__init__`` builds its networks with its methods.

Written for bnlint's tests (``tests/test_plain_classes.py``): the class is
not a Keras class, so bnlint reads it by running its ``__init__``, and its
training loop (30,000 epochs of ``train_on_batch``) must not stop the
reading. ``build()`` gives the combined model real Keras compares with.
"""

import numpy as np

import keras
from keras import layers


class GAN:
    def __init__(self, latent_dim=32):
        self.latent_dim = latent_dim
        self.img_shape = (28, 28, 1)
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss="binary_crossentropy", optimizer="adam")
        self.generator = self.build_generator()
        z = keras.Input((self.latent_dim,), name="z")
        self.discriminator.trainable = False
        valid = self.discriminator(self.generator(z))
        self.combined = keras.Model(z, valid, name="combined")

    def build_generator(self):
        model = keras.Sequential(name="generator")
        model.add(keras.Input((self.latent_dim,)))
        model.add(layers.Dense(7 * 7 * 16))
        model.add(layers.Reshape((7, 7, 16)))
        model.add(layers.BatchNormalization(momentum=0.8))
        model.add(layers.UpSampling2D())
        model.add(layers.Conv2D(16, 3, padding="same"))
        model.add(layers.BatchNormalization(momentum=0.8))
        model.add(layers.ReLU())
        model.add(layers.UpSampling2D())
        model.add(layers.Conv2D(1, 3, padding="same", activation="tanh"))
        return model

    def build_discriminator(self):
        image = keras.Input(self.img_shape, name="image")
        x = layers.Conv2D(16, 3, strides=2, padding="same")(image)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Dropout(0.25)(x)
        x = layers.Conv2D(32, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Flatten()(x)
        validity = layers.Dense(1, activation="sigmoid")(x)
        return keras.Model(image, validity, name="discriminator")

    def train(self, epochs=30000, batch_size=32):
        images = np.zeros((64,) + self.img_shape)
        valid, fake = np.ones((batch_size, 1)), np.zeros((batch_size, 1))
        for epoch in range(epochs):
            idx = np.random.randint(0, images.shape[0], batch_size)
            noise = np.random.normal(0, 1, (batch_size, self.latent_dim))
            generated = self.generator.predict(noise, verbose=0)
            d_loss = 0.5 * np.add(self.discriminator.train_on_batch(images[idx], valid),
                                  self.discriminator.train_on_batch(generated, fake))
            g_loss = self.combined.train_on_batch(noise, valid)
            if epoch % 1000 == 0:
                print(epoch, d_loss, g_loss)


def build():
    return GAN().combined


if __name__ == "__main__":
    gan = GAN()
    gan.train()
    # Read after the training loop: a model the script makes once training is done.
    probe = keras.Sequential([keras.Input((4,)), layers.Dense(4), layers.BatchNormalization()], name="after_training")
