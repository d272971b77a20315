using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace CompressBuild.Tasks
{
    /// <summary>
    /// Compresses models by running the engine, <c>dotnet compressbuild.dll compress MODEL ...</c>, once
    /// per model, out of process (as Grpc.Tools runs protoc): ONNX Runtime and Google.Protobuf never
    /// load inside MSBuild. The engine's <c>error|warning CBxxxx: message</c> lines become build errors
    /// and warnings with that code, on the project file, naming the item; its summary line is logged
    /// at high importance.
    /// </summary>
    public sealed class CompressModels : ToolTask
    {
        private ModelRequest? _current;
        private string _currentOutputDirectory = "";
        private string _currentClassName = "";
        private bool _currentReportedError;
        private string _host = "";

        /// <summary>
        /// The models, as ResolveCompressModels returns them: metadata <c>ModelPath</c>, <c>ClassName</c>,
        /// <c>OutputDirectory</c> and the settings of contract section 2.
        /// </summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The engine, <c>compressbuild.dll</c> (the package's tools/ folder, or the CLI project's output).</summary>
        [Required]
        public string EnginePath { get; set; } = "";

        /// <summary>The project file: diagnostics point at it, and the engine runs in its folder.</summary>
        [Required]
        public string ProjectFile { get; set; } = "";

        /// <summary>The dotnet host; empty means DOTNET_HOST_PATH, then <c>dotnet</c> on PATH.</summary>
        public string DotnetHostPath { get; set; } = "";

        /// <summary>Each compressed model's plan (<c>&lt;Class&gt;.plan</c>), for the source generator.</summary>
        [Output]
        public ITaskItem[] PlanFiles { get; private set; } = Array.Empty<ITaskItem>();

        /// <summary>Weights as base64 text (<c>&lt;Class&gt;.weights.b64</c>, small models), for the source generator.</summary>
        [Output]
        public ITaskItem[] LiteralWeightFiles { get; private set; } = Array.Empty<ITaskItem>();

        /// <summary>Weights as bytes (<c>&lt;Class&gt;.weights.bin</c>, large models), with metadata <c>LogicalName</c>.</summary>
        [Output]
        public ITaskItem[] ResourceFiles { get; private set; } = Array.Empty<ITaskItem>();

        /// <summary>Every file written: plans, weights, compressed models, reports.</summary>
        [Output]
        public ITaskItem[] GeneratedFiles { get; private set; } = Array.Empty<ITaskItem>();

        /// <inheritdoc />
        protected override string ToolName => "dotnet";

        // Summary lines (stdout) show in a normal build; everything else on stderr that is not a
        // diagnostic (a crash's stack trace, say) only in detailed logs.
        /// <inheritdoc />
        protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.High;

        /// <inheritdoc />
        protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.Low;

        /// <inheritdoc />
        public override bool Execute()
        {
            string? host = DotnetHost.Locate(DotnetHostPath, Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"), Environment.GetEnvironmentVariable("PATH"));
            if (host == null)
            {
                Report(new Diagnostic(true, DiagnosticCodes.EngineMissing,
                    "cannot find the dotnet host that runs the CompressBuild engine (DOTNET_HOST_PATH is not set and 'dotnet' is not on PATH). Install the .NET SDK or set CompressBuildDotnetHostPath."));
                return false;
            }
            if (!File.Exists(EnginePath))
            {
                Report(new Diagnostic(true, DiagnosticCodes.EngineMissing,
                    $"the CompressBuild engine '{EnginePath}' does not exist. Restore the CompressBuild package again, or set CompressBuildEnginePath."));
                return false;
            }
            _host = host;

            string projectDirectory = Path.GetDirectoryName(Path.GetFullPath(ProjectFile)) ?? "";
            var plans = new List<ITaskItem>();
            var literal = new List<ITaskItem>();
            var resources = new List<ITaskItem>();
            var generated = new List<ITaskItem>();
            foreach (var item in Models)
            {
                _current = ResolveCompressModels.Request(item, projectDirectory);
                _currentClassName = item.GetMetadata("ClassName");
                _currentOutputDirectory = item.GetMetadata("OutputDirectory");
                _currentReportedError = false;
                if (!File.Exists(_current.ModelPath))
                {
                    Report(new Diagnostic(true, DiagnosticCodes.ModelFileMissing,
                        $"{ModelResolver.Item(_current)}: the model file '{_current.ModelPath}' does not exist. Check the Include path of the item."));
                    continue;
                }
                if (!base.Execute() || _currentReportedError) continue;
                var written = GeneratedOutputs.Find(_currentOutputDirectory, _currentClassName);
                if (!File.Exists(written.Plan))
                {
                    Report(EngineProtocol.NoPlan(_current.ItemSpec, written.Plan));
                    continue;
                }
                plans.Add(new TaskItem(written.Plan));
                if (written.LiteralWeights != null) literal.Add(new TaskItem(written.LiteralWeights));
                if (written.ResourceWeights != null)
                {
                    var resource = new TaskItem(written.ResourceWeights);
                    resource.SetMetadata("LogicalName", "CompressBuild." + _currentClassName + ".weights");
                    resources.Add(resource);
                }
                foreach (var f in written.All) generated.Add(new TaskItem(f));
            }
            PlanFiles = plans.ToArray();
            LiteralWeightFiles = literal.ToArray();
            ResourceFiles = resources.ToArray();
            GeneratedFiles = generated.ToArray();
            return !Log.HasLoggedErrors;
        }

        /// <inheritdoc />
        protected override string GenerateFullPathToTool() => _host;

        /// <inheritdoc />
        protected override string GenerateCommandLineCommands() =>
            EngineProtocol.Arguments(Path.GetFullPath(EnginePath), _current!.ModelPath, _currentOutputDirectory, _currentClassName, _current.Settings);

        /// <inheritdoc />
        protected override string? GetWorkingDirectory() => Path.GetDirectoryName(Path.GetFullPath(ProjectFile));

        /// <inheritdoc />
        protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
        {
            var line = EngineProtocol.Parse(singleLine, _current!.ItemSpec, _current.ModelPath);
            if (line.Diagnostic != null)
            {
                Report(line.Diagnostic);
                _currentReportedError |= line.Diagnostic.IsError;
            }
            else if (messageImportance == StandardOutputLoggingImportance && singleLine.Trim().Length > 0)
            {
                Log.LogMessage(MessageImportance.High, "CompressBuild: " + singleLine.Trim());
            }
            else
            {
                Log.LogMessage(MessageImportance.Low, singleLine);
            }
        }

        /// <inheritdoc />
        protected override bool HandleTaskExecutionErrors()
        {
            if (!_currentReportedError && !ToolCanceled.WaitOne(0))
                Report(EngineProtocol.Failed(_current!.ItemSpec, ExitCode));
            return false;
        }

        private void Report(Diagnostic d) => TaskLog.Report(Log, d, ProjectFile);
    }
}
