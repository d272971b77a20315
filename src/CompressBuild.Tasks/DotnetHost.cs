using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace CompressBuild.Tasks
{
    /// <summary>Finds the <c>dotnet</c> host that runs the engine.</summary>
    internal static class DotnetHost
    {
        /// <summary>
        /// The host to use: <paramref name="configured"/> (CompressBuildDotnetHostPath) if set, else
        /// <c>DOTNET_HOST_PATH</c> (the SDK sets it for every MSBuild it runs), else <c>dotnet</c> on
        /// <c>PATH</c> (Visual Studio's MSBuild). Null when none exists.
        /// </summary>
        public static string? Locate(string? configured, string? dotnetHostPath, string? path)
        {
            if (!string.IsNullOrEmpty(configured)) return File.Exists(configured) ? configured : null;
            if (!string.IsNullOrEmpty(dotnetHostPath) && File.Exists(dotnetHostPath)) return dotnetHostPath;
            string exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
            return (path ?? "")
                .Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries)
                .Select(dir =>
                {
                    try
                    {
                        return Path.Combine(dir.Trim('"'), exe);
                    }
                    catch (ArgumentException)
                    {
                        return null;
                    }
                })
                .FirstOrDefault(candidate => candidate != null && File.Exists(candidate));
        }
    }
}
