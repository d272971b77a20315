// System.Numerics.Tensors also defines a Tensor type; the engine's tensor is CompressBuild.Onnx.Tensor.
global using CompressBuild.Onnx;
global using Tensor = CompressBuild.Onnx.Tensor;
