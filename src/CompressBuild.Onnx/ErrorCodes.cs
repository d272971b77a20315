namespace CompressBuild.Onnx;

/// <summary>
/// Every error code the engine reports, in one place. Codes are stable: tools and users search for
/// them, so a code is never reused for a different problem.
/// </summary>
/// <remarks>
/// Ranges: CB1xxx model files, CB2xxx graph structure and shapes, CB3xxx operators and execution,
/// CB4xxx data files, CB5xxx command line, CB6xxx compression settings.
/// </remarks>
public static class ErrorCodes
{
    /// <summary>The model file is not a readable ONNX protobuf (garbage or truncated).</summary>
    public const string InvalidProtobuf = "CB1001";
    /// <summary>A tensor's stored data does not match its dims and element type.</summary>
    public const string TensorDataSize = "CB1002";
    /// <summary>A tensor or value has a negative dimension.</summary>
    public const string NegativeDim = "CB1003";
    /// <summary>The product of a tensor's dims is too large to hold.</summary>
    public const string DimOverflow = "CB1004";
    /// <summary>An external-data location leaves the model's folder or is absolute.</summary>
    public const string ExternalDataPath = "CB1005";
    /// <summary>An external-data file is missing or shorter than offset + length.</summary>
    public const string ExternalDataMissing = "CB1006";
    /// <summary>The model imports or uses an operator domain other than the default ONNX domain.</summary>
    public const string UnknownDomain = "CB1007";
    /// <summary>The model's default-domain opset is newer (or older) than the engine supports.</summary>
    public const string UnsupportedOpset = "CB1008";
    /// <summary>An element type the engine does not represent (complex, float8, int4 storage, ...).</summary>
    public const string UnsupportedDataType = "CB1009";
    /// <summary>The model has no graph, or a required field is missing.</summary>
    public const string MalformedModel = "CB1010";
    /// <summary>The model file does not exist or cannot be read.</summary>
    public const string ModelFileMissing = "CB1011";
    /// <summary>The model could not be written.</summary>
    public const string ModelWriteFailed = "CB1012";

    /// <summary>The graph contains a cycle.</summary>
    public const string GraphCycle = "CB2001";
    /// <summary>A node consumes a value that no node, input or initializer produces.</summary>
    public const string DanglingInput = "CB2002";
    /// <summary>Two producers define the same value name.</summary>
    public const string DuplicateValue = "CB2003";
    /// <summary>A graph output is not produced by anything.</summary>
    public const string MissingOutput = "CB2004";
    /// <summary>A dimension other than the batch dimension cannot be resolved statically.</summary>
    public const string UnresolvedShape = "CB2005";
    /// <summary>Shapes or element types of an operator's inputs are inconsistent.</summary>
    public const string ShapeMismatch = "CB2006";

    /// <summary>One or more operators are not supported; the message lists them all.</summary>
    public const string UnsupportedOperator = "CB3001";
    /// <summary>An operator attribute is missing or has an invalid value.</summary>
    public const string InvalidAttribute = "CB3002";
    /// <summary>An operator does not support the element type it was given.</summary>
    public const string UnsupportedOperatorType = "CB3003";
    /// <summary>Running the model failed for a reason tied to a specific node.</summary>
    public const string ExecutionFailed = "CB3004";
    /// <summary>An operator has no gradient but training needs one through it.</summary>
    public const string NotDifferentiable = "CB3005";

    /// <summary>A data or input file does not exist.</summary>
    public const string InputFileMissing = "CB4001";
    /// <summary>A data file is malformed (bad header, wrong length, unsupported dtype).</summary>
    public const string InvalidDataFile = "CB4002";
    /// <summary>Input data does not fit the model's input (count, element type or shape).</summary>
    public const string InputMismatch = "CB4003";
    /// <summary>An output file could not be written.</summary>
    public const string OutputWriteFailed = "CB4004";

    /// <summary>The command line is malformed (unknown command or option, missing value).</summary>
    public const string Usage = "CB5001";

    /// <summary>A compression setting is unknown or has a malformed value.</summary>
    public const string InvalidSetting = "CB6001";
    /// <summary>A setting asks for a technique this version does not implement yet.</summary>
    public const string NotImplementedSetting = "CB6002";
    /// <summary>A technique needs data (CalibrationData, TrainingData, labels) that was not given.</summary>
    public const string MissingData = "CB6003";
    /// <summary>The compressed model disagrees with the original or with ONNX Runtime more than expected (a warning).</summary>
    public const string VerificationMismatch = "CB6004";
    /// <summary>Two models of one project would generate the same class.</summary>
    public const string DuplicateClassName = "CB6005";
}
