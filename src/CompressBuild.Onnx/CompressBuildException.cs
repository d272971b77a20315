namespace CompressBuild.Onnx;

/// <summary>
/// An error caused by the user's input (a model, a data file, a setting), carrying a stable
/// <c>CBxxxx</c> code and a message that says what is wrong, where, and what to do.
/// </summary>
/// <remarks>
/// Anything else that escapes the engine is a bug in CompressBuild. The command line prints these
/// as <c>error CBxxxx: message</c> and exits with code 1.
/// </remarks>
public sealed class CompressBuildException : Exception
{
    /// <summary>Creates an error with a code from <see cref="ErrorCodes"/>.</summary>
    public CompressBuildException(string code, string message, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
    }

    /// <summary>The stable error code, e.g. <c>CB1001</c>.</summary>
    public string Code { get; }

    /// <summary>The one-line form the command line and build print: <c>error CBxxxx: message</c>.</summary>
    public override string ToString() => $"error {Code}: {Message}";
}
