namespace kolokol {}
