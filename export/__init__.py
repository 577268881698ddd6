"""Export: a training run as one ONNX graph, checked against the Python pipeline."""
