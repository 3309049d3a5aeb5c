using System.Security.Cryptography;

namespace PiOps.Web.Redis;

/// <summary>
/// The embedded Garnet's password: random, made on first start and kept in the data folder readable by its owner only
/// (0600), so every local process that cannot read that file is refused, and a restart keeps the password workers know.
/// </summary>
public static class EmbeddedPassword
{
    public const string FileName = "redis-password";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Reads the password from <paramref name="path"/>, or makes one and writes it there first.</summary>
    public static string LoadOrCreate(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            // A file someone loosened is tightened again rather than trusted as it is.
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~OwnerOnly) != 0)
            {
                File.SetUnixFileMode(path, OwnerOnly);
            }

            string existing = File.ReadAllText(path).Trim();
            if (existing.Length >= 16)
            {
                return existing;
            }
        }

        // 32 random bytes as URL-safe text: no character a shell, a URL or a connection string would treat specially.
        string password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var file = new StreamWriter(path, options))
        {
            file.Write(password);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only when the file is new; an old, short file keeps its mode otherwise.
            File.SetUnixFileMode(path, OwnerOnly);
        }

        return password;
    }
}
