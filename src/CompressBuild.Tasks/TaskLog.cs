using Microsoft.Build.Utilities;

namespace CompressBuild.Tasks
{
    /// <summary>Logs <see cref="Diagnostic"/>s the way every CompressBuild task does: code, project file, message.</summary>
    internal static class TaskLog
    {
        public static void Report(TaskLoggingHelper log, Diagnostic d, string projectFile)
        {
            if (d.IsError)
                log.LogError(null, d.Code, null, projectFile, 0, 0, 0, 0, d.Message);
            else
                log.LogWarning(null, d.Code, null, projectFile, 0, 0, 0, 0, d.Message);
        }
    }
}
