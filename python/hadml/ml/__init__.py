"""GAN models, training (cluster level and event level) and ONNX export."""
