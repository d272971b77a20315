global using CompressBuild.Onnx;
