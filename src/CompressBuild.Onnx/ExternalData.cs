using CompressBuild.Onnx.Protobuf;

namespace CompressBuild.Onnx;

/// <summary>Reads tensor data stored outside the model file (<c>data_location = EXTERNAL</c>).</summary>
internal static class ExternalData
{
    /// <summary>
    /// Reads <paramref name="expectedBytes"/> bytes at the tensor's location/offset/length. The
    /// location must be a relative path that stays inside the model's folder.
    /// </summary>
    public static byte[] Read(TensorProto proto, string? baseDirectory, string where, long expectedBytes)
    {
        string? location = null;
        long offset = 0;
        long length = -1;
        foreach (var e in proto.ExternalData)
        {
            switch (e.Key)
            {
                case "location": location = e.Value; break;
                case "offset":
                    if (!long.TryParse(e.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset))
                        throw new CompressBuildException(ErrorCodes.ExternalDataMissing, $"{where}: external data offset '{e.Value}' is not a non-negative integer. Re-export the model.");
                    break;
                case "length":
                    if (!long.TryParse(e.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length))
                        throw new CompressBuildException(ErrorCodes.ExternalDataMissing, $"{where}: external data length '{e.Value}' is not a non-negative integer. Re-export the model.");
                    break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new CompressBuildException(ErrorCodes.ExternalDataMissing, $"{where} is marked as external data but has no 'location'. Re-export the model.");
        if (baseDirectory is null)
            throw new CompressBuildException(ErrorCodes.ExternalDataMissing, $"{where} uses external data '{location}', but the model was not loaded from a file. Load it from its folder.");

        string full = ResolveInside(baseDirectory, location, where);
        if (!File.Exists(full))
            throw new CompressBuildException(ErrorCodes.ExternalDataMissing, $"{where}: external data file '{location}' does not exist next to the model (looked in {baseDirectory}). Copy it beside the model.");

        if (length >= 0 && length != expectedBytes)
            throw new CompressBuildException(ErrorCodes.TensorDataSize, $"{where}: external data length {length} does not match the {expectedBytes} bytes its dims and type need. Re-export the model.");

        using var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (offset + expectedBytes > fs.Length)
            throw new CompressBuildException(ErrorCodes.ExternalDataMissing, $"{where}: external data '{location}' is {fs.Length} bytes, too short for offset {offset} + {expectedBytes} bytes. The file is truncated; copy it again.");
        var buffer = new byte[expectedBytes];
        fs.Position = offset;
        fs.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>
    /// Resolves a relative location under <paramref name="baseDirectory"/>; refuses absolute paths
    /// and paths that leave it (<c>..</c>, symlink-free check on the normalised path).
    /// </summary>
    public static string ResolveInside(string baseDirectory, string location, string where)
    {
        string root = Path.GetFullPath(baseDirectory);
        if (!root.EndsWith(Path.DirectorySeparatorChar)) root += Path.DirectorySeparatorChar;
        if (Path.IsPathRooted(location) || location.Contains('\\') && Path.DirectorySeparatorChar == '/' && location.Contains(".."))
            throw Escape(location, where);
        string full = Path.GetFullPath(Path.Combine(root, location));
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw Escape(location, where);
        return full;
    }

    private static CompressBuildException Escape(string location, string where) =>
        new(ErrorCodes.ExternalDataPath,
            $"{where}: external data location '{location}' is outside the model's folder; CompressBuild only reads external data stored beside the model. Move the data file next to the model and use a relative location.");
}
