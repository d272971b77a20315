using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace CompressBuild.Tasks
{
    /// <summary>
    /// Resolves the CompressModel items of a project before anything runs: the class each generates,
    /// its output files, the settings stamp, and the files the compression reads (the Inputs and
    /// Outputs of the incremental CompressBuild_Compress target). Reports missing model files
    /// (CB1011) and two items generating the same class (CB6005).
    /// </summary>
    public sealed class ResolveCompressModels : Task
    {
        /// <summary>The CompressModel items, with their settings as metadata (contract section 2).</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>Folder of the outputs, <c>$(IntermediateOutputPath)compressbuild/</c>.</summary>
        [Required]
        public string OutputDirectory { get; set; } = "";

        /// <summary>The project file: relative paths in settings are relative to its folder, and diagnostics name it.</summary>
        [Required]
        public string ProjectFile { get; set; } = "";

        /// <summary>The engine's compressbuild.dll; it is an input of every model, and its path part of the stamp.</summary>
        public string EnginePath { get; set; } = "";

        /// <summary>The namespace of items whose Namespace is empty: <c>$(RootNamespace)</c>.</summary>
        public string DefaultNamespace { get; set; } = "";

        /// <summary>False in design-time builds: resolve quietly, report nothing.</summary>
        public bool ReportErrors { get; set; } = true;

        /// <summary>
        /// The items, one per model class, with metadata: <c>ModelPath</c>, <c>ClassName</c> and <c>Namespace</c> (defaulted),
        /// <c>OutputDirectory</c>, <c>PlanFile</c>, <c>OnnxFile</c>, <c>ReportJsonFile</c>,
        /// <c>ReportMarkdownFile</c>, <c>LiteralWeightsFile</c>, <c>ResourceWeightsFile</c>,
        /// <c>ResourceName</c>, <c>SettingsFile</c>, <c>SettingsLines</c> and <c>InputFiles</c> (lists).
        /// </summary>
        [Output]
        public ITaskItem[] ResolvedModels { get; private set; } = Array.Empty<ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            string projectDirectory = Path.GetDirectoryName(Path.GetFullPath(ProjectFile)) ?? "";
            var requests = Models.Select(m => Request(m, projectDirectory, DefaultNamespace)).ToList();
            var diagnostics = new List<Diagnostic>();
            var resolved = ModelResolver.Resolve(requests, Path.GetFullPath(Path.Combine(projectDirectory, OutputDirectory)),
                projectDirectory, EnginePath.Length == 0 ? "" : Path.GetFullPath(EnginePath), Version, diagnostics);
            if (ReportErrors)
            {
                foreach (var d in diagnostics) TaskLog.Report(Log, d, ProjectFile);
            }
            ResolvedModels = resolved.Select(m => ToItem(m, Models[requests.IndexOf(m.Request)])).ToArray();
            return !Log.HasLoggedErrors;
        }

        /// <summary>The version of these tasks (the package's), part of every settings stamp.</summary>
        internal static string Version =>
            typeof(ResolveCompressModels).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

        internal static ModelRequest Request(ITaskItem item, string projectDirectory, string defaultNamespace = "")
        {
            var settings = new Dictionary<string, string>(Settings.NameComparer);
            foreach (var name in Settings.Names) settings[name] = item.GetMetadata(Settings.MetadataName(name));
            if (settings["Namespace"].Trim().Length == 0) settings["Namespace"] = defaultNamespace;
            string path = item.GetMetadata("ModelPath");
            if (path.Length == 0) path = item.ItemSpec;
            return new ModelRequest(item.ItemSpec, Path.GetFullPath(Path.Combine(projectDirectory, path)), settings);
        }

        private static ITaskItem ToItem(ResolvedModel m, ITaskItem source)
        {
            var item = new TaskItem(source);
            void Set(string name, string value) => ((ITaskItem2)item).SetMetadataValueLiteral(name, value);
            Set("ModelPath", m.Request.ModelPath);
            Set("ClassName", m.ClassName);
            Set("Namespace", m.Request.Setting("Namespace"));
            Set("OutputDirectory", m.OutputDirectory);
            Set("PlanFile", m.PlanFile);
            Set("OnnxFile", m.OnnxFile);
            Set("ReportJsonFile", m.ReportJsonFile);
            Set("ReportMarkdownFile", m.ReportMarkdownFile);
            Set("LiteralWeightsFile", m.LiteralWeightsFile);
            Set("ResourceWeightsFile", m.ResourceWeightsFile);
            Set("ResourceName", m.ResourceName);
            Set("SettingsFile", m.SettingsFile);
            // Lists: escaped elements joined by ';', so that %(InputFiles) expands into one file each.
            item.SetMetadata("SettingsLines", EscapeList(m.SettingsLines));
            item.SetMetadata("InputFiles", EscapeList(m.InputFiles));
            return item;
        }

        /// <summary>Joins values into an MSBuild list, escaping each (%, ;, *, ?, @, $, (, ), ').</summary>
        internal static string EscapeList(IEnumerable<string> values) => string.Join(";", values.Select(Escape));

        private static string Escape(string value)
        {
            var sb = new StringBuilder(value.Length);
            foreach (char c in value)
            {
                if ("%;*?@$()'".IndexOf(c) >= 0) sb.Append('%').Append(((int)c).ToString("x2"));
                else sb.Append(c);
            }
            return sb.ToString();
        }
    }
}
