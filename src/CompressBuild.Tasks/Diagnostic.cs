namespace CompressBuild.Tasks
{
    /// <summary>One error or warning the tasks report: a <c>CB</c> code and the message text.</summary>
    internal sealed class Diagnostic
    {
        public Diagnostic(bool isError, string code, string message)
        {
            IsError = isError;
            Code = code;
            Message = message;
        }

        /// <summary>True for an error, false for a warning.</summary>
        public bool IsError { get; }

        /// <summary>The <c>CBxxxx</c> code.</summary>
        public string Code { get; }

        /// <summary>The message, naming the item it is about.</summary>
        public string Message { get; }

        public override string ToString() => $"{(IsError ? "error" : "warning")} {Code}: {Message}";
    }

    /// <summary>
    /// The codes the tasks report themselves. They share the <c>CB</c> namespace with the engine's
    /// codes (src/CompressBuild.Onnx/ErrorCodes.cs), whose numbers they reuse where the problem is
    /// the same; CB90xx are problems of the build integration itself.
    /// </summary>
    internal static class DiagnosticCodes
    {
        /// <summary>The model file of a CompressModel item does not exist (the engine's code for it).</summary>
        public const string ModelFileMissing = "CB1011";

        /// <summary>Two CompressModel items would generate the same class (the engine's code for it).</summary>
        public const string DuplicateClassName = "CB6005";

        /// <summary>The engine failed without reporting an error line.</summary>
        public const string EngineFailed = "CB9002";

        /// <summary>The engine cannot be started: the dotnet host or compressbuild.dll is missing.</summary>
        public const string EngineMissing = "CB9003";
    }
}
