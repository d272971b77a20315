using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace CompressBuild.Tasks
{
    /// <summary>One CompressModel item as the build gives it.</summary>
    internal sealed class ModelRequest
    {
        public ModelRequest(string itemSpec, string modelPath, IReadOnlyDictionary<string, string> settings)
        {
            ItemSpec = itemSpec;
            ModelPath = modelPath;
            Settings = settings;
        }

        /// <summary>The item as written in the project (<c>Models/lenet5.onnx</c>): names the item in messages.</summary>
        public string ItemSpec { get; }

        /// <summary>Full path of the model file.</summary>
        public string ModelPath { get; }

        /// <summary>Setting values by name (contract section 2); empty or missing means the engine's default.</summary>
        public IReadOnlyDictionary<string, string> Settings { get; }

        /// <summary>The trimmed value of a setting, or "".</summary>
        public string Setting(string name) => Settings.TryGetValue(name, out var v) && v != null ? v.Trim() : "";
    }

    /// <summary>A CompressModel item with everything the targets need to compress it incrementally.</summary>
    internal sealed class ResolvedModel
    {
        public ResolvedModel(ModelRequest request, string className, bool classNameIsDefault, string outputDirectory,
            string fileStem, IReadOnlyList<string> settingsLines, IReadOnlyList<string> inputFiles)
        {
            Request = request;
            ClassName = className;
            ClassNameIsDefault = classNameIsDefault;
            OutputDirectory = outputDirectory;
            string Out(string suffix) => Path.Combine(outputDirectory, fileStem + suffix);
            PlanFile = Out(".plan");
            OnnxFile = Out(".onnx");
            ReportJsonFile = Out(".report.json");
            ReportMarkdownFile = Out(".report.md");
            LiteralWeightsFile = Out(".weights.b64");
            ResourceWeightsFile = Out(".weights.bin");
            SettingsFile = Out(".settings");
            ResourceName = "CompressBuild." + className + ".weights";
            SettingsLines = settingsLines;
            InputFiles = inputFiles;
        }

        public ModelRequest Request { get; }

        /// <summary>The class to generate: the ClassName setting, or the file name in PascalCase.</summary>
        public string ClassName { get; }

        /// <summary>True when <see cref="ClassName"/> comes from the file name.</summary>
        public bool ClassNameIsDefault { get; }

        /// <summary>The folder of the outputs (<c>$(IntermediateOutputPath)compressbuild/</c>).</summary>
        public string OutputDirectory { get; }

        public string PlanFile { get; }
        public string OnnxFile { get; }
        public string ReportJsonFile { get; }
        public string ReportMarkdownFile { get; }

        /// <summary>Weights as base64 text (small models), an AdditionalFiles item for the generator.</summary>
        public string LiteralWeightsFile { get; }

        /// <summary>Weights as bytes (large models), embedded as <see cref="ResourceName"/>.</summary>
        public string ResourceWeightsFile { get; }

        /// <summary>The manifest resource name the generated class loads its weights from.</summary>
        public string ResourceName { get; }

        /// <summary>The settings stamp: rewritten only when <see cref="SettingsLines"/> change.</summary>
        public string SettingsFile { get; }

        /// <summary>What the outputs depend on besides files: model path, engine, version, settings.</summary>
        public IReadOnlyList<string> SettingsLines { get; }

        /// <summary>Files the outputs depend on: model, its external data, data files, stamp, engine.</summary>
        public IReadOnlyList<string> InputFiles { get; }

        /// <summary>The outputs that exist after a successful compression, whatever the weight storage.</summary>
        public IReadOnlyList<string> Outputs => new[] { PlanFile, OnnxFile, ReportJsonFile, ReportMarkdownFile };
    }

    /// <summary>
    /// Turns CompressModel items into <see cref="ResolvedModel"/>s and finds what is wrong before the
    /// engine runs: missing model files (CB1011) and two items generating one class (CB6005). Setting
    /// values are the engine's to check (CB6001), so that the build and the command line agree.
    /// </summary>
    internal static class ModelResolver
    {
        public static IReadOnlyList<ResolvedModel> Resolve(
            IReadOnlyList<ModelRequest> requests,
            string outputDirectory,
            string projectDirectory,
            string enginePath,
            string version,
            List<Diagnostic> diagnostics)
        {
            var models = new List<ResolvedModel>();
            // Output files must not collide on case-insensitive file systems either.
            var byClass = new Dictionary<string, ResolvedModel>(StringComparer.OrdinalIgnoreCase);
            foreach (var request in requests)
            {
                if (!File.Exists(request.ModelPath))
                {
                    diagnostics.Add(new Diagnostic(true, DiagnosticCodes.ModelFileMissing,
                        $"{Item(request)}: the model file '{request.ModelPath}' does not exist. Check the Include path of the item."));
                }

                string given = request.Setting("ClassName");
                bool isDefault = given.Length == 0;
                string className = isDefault ? ClassNames.FromFileStem(Path.GetFileNameWithoutExtension(request.ModelPath)) : given;
                string stem = ClassNames.IsSafeFileStem(className)
                    ? className
                    : new string(className.Select(c => c < 128 && (char.IsLetterOrDigit(c) || c == '_') ? c : '_').ToArray());

                var lines = SettingsLines(request, className, enginePath, version);
                var inputs = InputFiles(request, projectDirectory, Path.Combine(outputDirectory, stem + ".settings"), enginePath);
                var model = new ResolvedModel(request, className, isDefault, outputDirectory, stem, lines, inputs);

                if (byClass.TryGetValue(stem, out var first))
                {
                    string classes = first.ClassName == className
                        ? $"the class '{className}'"
                        : $"the classes '{first.ClassName}' and '{className}', whose output files collide where file names ignore case";
                    diagnostics.Add(new Diagnostic(true, DiagnosticCodes.DuplicateClassName,
                        $"CompressModel items '{first.Request.ItemSpec}' and '{request.ItemSpec}' both generate {classes}"
                        + (first.ClassNameIsDefault || isDefault ? " (the default ClassName is the file name in PascalCase)" : "")
                        + ". Give one of them another ClassName."));
                    continue;
                }
                byClass.Add(stem, model);
                models.Add(model);
            }
            return models;
        }

        /// <summary>How messages name an item: <c>CompressModel 'Models/lenet5.onnx'</c>.</summary>
        public static string Item(ModelRequest request) => Item(request.ItemSpec);

        /// <inheritdoc cref="Item(ModelRequest)"/>
        public static string Item(string itemSpec) => $"CompressModel '{itemSpec}'";

        private static IReadOnlyList<string> SettingsLines(ModelRequest request, string className, string enginePath, string version)
        {
            var lines = new List<string>
            {
                "# Settings of one CompressModel item: CompressBuild_Compress runs again when this file changes.",
                "model=" + request.ModelPath,
                "engine=" + enginePath,
                "version=" + version,
            };
            foreach (var name in Settings.Names)
            {
                string value = name == "ClassName" ? className : request.Setting(name);
                if (value.Length > 0) lines.Add(name + "=" + value);
            }
            return lines;
        }

        private static IReadOnlyList<string> InputFiles(ModelRequest request, string projectDirectory, string settingsFile, string enginePath)
        {
            var files = new List<string> { request.ModelPath };
            files.AddRange(ExternalData(request.ModelPath));
            foreach (var name in Settings.FileSettings)
            {
                string value = request.Setting(name);
                if (value.Length > 0) files.AddRange(Expand(value, projectDirectory));
            }
            files.Add(settingsFile);
            if (enginePath.Length > 0) files.Add(enginePath);
            return files.Distinct(StringComparer.Ordinal).ToList();
        }

        /// <summary>Files next to the model that hold its external data: <c>model.onnx.data</c>, <c>model.onnx_data</c>, ...</summary>
        private static IEnumerable<string> ExternalData(string modelPath)
        {
            string? dir = Path.GetDirectoryName(modelPath);
            if (dir == null || !Directory.Exists(dir)) return Array.Empty<string>();
            string name = Path.GetFileName(modelPath);
            return Directory.EnumerateFiles(dir, name + "*")
                .Where(f => !string.Equals(Path.GetFileName(f), name, StringComparison.OrdinalIgnoreCase))
                .OrderBy(f => f, StringComparer.Ordinal);
        }

        /// <summary>
        /// A data setting's files: a file, every file of a folder, or the matches of a glob in its last
        /// segment. A value that names nothing (a width factor, a missing file) adds nothing; the engine
        /// reports missing data itself.
        /// </summary>
        internal static IEnumerable<string> Expand(string value, string projectDirectory)
        {
            string path;
            try
            {
                path = Path.Combine(projectDirectory, value);
            }
            catch (ArgumentException)
            {
                return Array.Empty<string>();
            }
            if (File.Exists(path)) return new[] { Path.GetFullPath(path) };
            if (Directory.Exists(path))
                return Directory.EnumerateFiles(path).Select(Path.GetFullPath).OrderBy(f => f, StringComparer.Ordinal).ToList();
            string pattern = Path.GetFileName(path);
            string? dir = Path.GetDirectoryName(path);
            if (pattern.IndexOfAny(new[] { '*', '?' }) >= 0 && dir != null && Directory.Exists(dir))
                return Directory.EnumerateFiles(dir, pattern).Select(Path.GetFullPath).OrderBy(f => f, StringComparer.Ordinal).ToList();
            return Array.Empty<string>();
        }
    }
}
