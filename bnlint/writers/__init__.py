"""Writers realise fix intents on a model's origin; they never decide what to change."""
