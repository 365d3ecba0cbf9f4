"""The local review page: the storyboard, every take, the film (``storyboard review``)."""
