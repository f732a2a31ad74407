"""Reading passages: the transformer reader, sentence mode, and answerability (answer or refuse)."""
