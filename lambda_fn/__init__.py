"""Serving: score requests and S3 files with the exported ONNX model."""
