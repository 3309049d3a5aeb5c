using Microsoft.AspNetCore.Identity;

namespace PiOps.Web.Security;

/// <summary>Password hashes as ASP.NET Core Identity makes them (PBKDF2, version 3 format), and the hash-password command.</summary>
public static class PasswordHashes
{
    private static readonly PasswordHasher<string> Hasher = new();

    public static string Hash(string password) => Hasher.HashPassword("", password);

    public static bool Verify(string hash, string password)
    {
        try
        {
            return Hasher.VerifyHashedPassword("", hash, password) != PasswordVerificationResult.Failed;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static bool LooksValid(string? hash)
    {
        if (string.IsNullOrWhiteSpace(hash))
        {
            return false;
        }

        var bytes = new byte[hash.Length];
        return Convert.TryFromBase64String(hash, bytes, out int n) && n > 13 && bytes[0] == 0x01;
    }

    /// <summary>
    /// `PiOps.Web hash-password`: reads a password (hidden at a terminal, or one line from a pipe) and prints its
    /// hash for Auth:Users. Returns the exit code, or null when the arguments are not this command.
    /// </summary>
    public static int? RunCommand(string[] args) =>
        args is ["hash-password", ..] ? HashPassword(Console.IsInputRedirected ? Console.In : null, Console.Out, Console.Error) : null;

    /// <summary>The hash-password command on given streams.</summary>
    /// <param name="piped">Where the password's line comes from when piped; null: asked at the terminal, hidden, twice.</param>
    public static int HashPassword(TextReader? piped, TextWriter output, TextWriter error)
    {
        string? password;
        if (piped is not null)
        {
            password = piped.ReadLine();
        }
        else
        {
            error.Write("Password: ");
            password = ReadHidden(error);
            error.Write("Again: ");
            if (ReadHidden(error) != password)
            {
                error.WriteLine("The two passwords differ; nothing was made.");
                return 1;
            }
        }

        if (string.IsNullOrEmpty(password) || password.Length < 8)
        {
            error.WriteLine("A password must have at least 8 characters; nothing was made.");
            return 1;
        }

        output.WriteLine(Hash(password));
        return 0;
    }

    private static string ReadHidden(TextWriter error)
    {
        var chars = new List<char>();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                error.WriteLine();
                return new string([.. chars]);
            }

            if (key.Key == ConsoleKey.Backspace && chars.Count > 0)
            {
                chars.RemoveAt(chars.Count - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                chars.Add(key.KeyChar);
            }
        }
    }
}
