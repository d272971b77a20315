namespace CompressBuild.Onnx.DataFiles;

/// <summary>
/// Reads the data files of contract section 4 by their kind: <c>.npy</c>, ONNX <c>.pb</c>, and IDX
/// (<c>*-idx?-ubyte</c>, optionally gzipped); and expands folders and globs.
/// </summary>
public static class DataFile
{
    /// <summary>Reads any supported data file into one tensor (first axis = sample for batches).</summary>
    public static Tensor Read(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".npy", StringComparison.Ordinal)) return NpyFile.Read(path);
        if (name.EndsWith(".pb", StringComparison.Ordinal)) return TensorFile.Read(path);
        if (IdxFile.LooksLikeIdx(name)) return IdxFile.Read(path);
        if (!File.Exists(path))
            throw new CompressBuildException(ErrorCodes.InputFileMissing, $"data file '{path}' does not exist. Check the path.");
        throw new CompressBuildException(ErrorCodes.InvalidDataFile,
            $"'{path}' is not a data file CompressBuild reads: use .npy, an ONNX TensorProto .pb, or an IDX file (*-idx3-ubyte[.gz]).");
    }

    /// <summary>
    /// Expands a file, folder or glob (<c>*</c> and <c>?</c> in the file name part) into the data
    /// files it names, in ordinal name order.
    /// </summary>
    public static IReadOnlyList<string> Expand(string spec)
    {
        if (File.Exists(spec)) return new[] { spec };
        if (Directory.Exists(spec))
        {
            var files = Directory.GetFiles(spec).Where(IsDataFile).OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new CompressBuildException(ErrorCodes.InputFileMissing, $"folder '{spec}' holds no data files (.npy, .pb, IDX). Put the data there or name the files.");
            return files;
        }
        string file = Path.GetFileName(spec);
        if (file.Contains('*') || file.Contains('?'))
        {
            string dir = Path.GetDirectoryName(spec) is { Length: > 0 } d ? d : ".";
            if (!Directory.Exists(dir))
                throw new CompressBuildException(ErrorCodes.InputFileMissing, $"folder '{dir}' of pattern '{spec}' does not exist. Check the path.");
            var files = Directory.GetFiles(dir, file).Where(IsDataFile).OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new CompressBuildException(ErrorCodes.InputFileMissing, $"pattern '{spec}' matches no data files (.npy, .pb, IDX). Check the pattern.");
            return files;
        }
        throw new CompressBuildException(ErrorCodes.InputFileMissing, $"data file '{spec}' does not exist. Check the path.");
    }

    /// <summary>True for names CompressBuild reads as data.</summary>
    public static bool IsDataFile(string path)
    {
        string n = Path.GetFileName(path).ToLowerInvariant();
        return n.EndsWith(".npy", StringComparison.Ordinal) || n.EndsWith(".pb", StringComparison.Ordinal) || IdxFile.LooksLikeIdx(n);
    }

    internal static byte[] ReadAllBytes(string path)
    {
        if (!File.Exists(path))
            throw new CompressBuildException(ErrorCodes.InputFileMissing, $"data file '{path}' does not exist. Check the path.");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressBuildException(ErrorCodes.InputFileMissing, $"data file '{path}' cannot be read: {e.Message}");
        }
    }
}
