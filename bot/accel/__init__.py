"""ONNX Runtime copies of the project's models: built from the torch weights by a command or on
first use, cached with a checksum, and opened as inference sessions."""
