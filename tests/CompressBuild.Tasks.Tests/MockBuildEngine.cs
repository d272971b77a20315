using System.Collections;
using Microsoft.Build.Framework;

namespace CompressBuild.Tasks.Tests;

/// <summary>Records what a task logs, for exact assertions.</summary>
internal sealed class MockBuildEngine : IBuildEngine
{
    public List<BuildErrorEventArgs> Errors { get; } = new();
    public List<BuildWarningEventArgs> Warnings { get; } = new();
    public List<BuildMessageEventArgs> Messages { get; } = new();

    /// <summary>Errors as MSBuild prints them, without position: <c>FILE: error CODE: MESSAGE</c>.</summary>
    public IEnumerable<string> ErrorLines => Errors.Select(e => $"{e.File}: error {e.Code}: {e.Message}");

    /// <summary>Warnings as <c>FILE: warning CODE: MESSAGE</c>.</summary>
    public IEnumerable<string> WarningLines => Warnings.Select(e => $"{e.File}: warning {e.Code}: {e.Message}");

    /// <summary>Messages of one importance, without the command lines ToolTask logs.</summary>
    public string MessagesAt(MessageImportance importance) =>
        string.Join("\n", Messages.Where(m => m.Importance == importance && m is not TaskCommandLineEventArgs).Select(m => m.Message));

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "App.csproj";

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => throw new NotSupportedException();
    public void LogCustomEvent(CustomBuildEventArgs e) { }
    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);
    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e);
    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);
}
