using System.Collections.Generic;
using System.IO;

namespace CompressBuild.Tasks
{
    /// <summary>The files one compression wrote (contract section 5, plus the plan and the weights).</summary>
    internal sealed class GeneratedOutputs
    {
        private GeneratedOutputs(string plan, string? literalWeights, string? resourceWeights, IReadOnlyList<string> all)
        {
            Plan = plan;
            LiteralWeights = literalWeights;
            ResourceWeights = resourceWeights;
            All = all;
        }

        public string Plan { get; }

        /// <summary><c>&lt;Class&gt;.weights.b64</c> when the engine chose literal weights.</summary>
        public string? LiteralWeights { get; }

        /// <summary><c>&lt;Class&gt;.weights.bin</c> when the engine chose a resource.</summary>
        public string? ResourceWeights { get; }

        public IReadOnlyList<string> All { get; }

        /// <summary>What exists in <paramref name="directory"/> for <paramref name="className"/>.</summary>
        public static GeneratedOutputs Find(string directory, string className)
        {
            string Path_(string suffix) => Path.Combine(directory, className + suffix);
            string? Existing(string suffix) => File.Exists(Path_(suffix)) ? Path_(suffix) : null;
            var all = new List<string>();
            foreach (var suffix in new[] { ".plan", ".weights.b64", ".weights.bin", ".onnx", ".report.json", ".report.md" })
            {
                if (Existing(suffix) is string f) all.Add(f);
            }
            return new GeneratedOutputs(Path_(".plan"), Existing(".weights.b64"), Existing(".weights.bin"), all);
        }
    }
}
