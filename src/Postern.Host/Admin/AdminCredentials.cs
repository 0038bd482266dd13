using System.Security.Cryptography;
using System.Text.Json;

namespace Postern.Host.Admin;

/// <summary>
/// How the CLI finds and authenticates to the running server: admin.json in the data folder (mode 0600),
/// holding the API address, a random bearer token, and the organization's root to trust for that address.
/// </summary>
internal sealed record AdminCredentials(string Url, string Token, string RootCertificatePem)
{
    public const string FileName = "admin.json";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string PathIn(string dataDirectory) => System.IO.Path.Combine(dataDirectory, FileName);

    public void Save(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        var temp = path + ".tmp";
        File.Delete(temp);

        // Created with 0600 from the start, so the token is never readable by others, not even briefly.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temp, options))
            {
                JsonSerializer.Serialize(stream, this, JsonOptions);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            // A half-written copy (a full disk) is not left beside the good one.
            File.Delete(temp);
            throw;
        }
    }

    public static AdminCredentials? Load(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        using var stream = File.OpenRead(path);
        AdminCredentials? credentials;
        try
        {
            credentials = JsonSerializer.Deserialize<AdminCredentials>(stream, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is damaged ({ex.Message}); restart 'postern serve', which writes it again", ex);
        }

        // Every field is needed: the address to call, the token to present, the roots to trust for that address.
        if (credentials is null || string.IsNullOrEmpty(credentials.Url) || string.IsNullOrEmpty(credentials.Token) || string.IsNullOrEmpty(credentials.RootCertificatePem))
        {
            throw new InvalidDataException($"{path} lacks the server's url, token or rootCertificatePem; restart 'postern serve', which writes it again");
        }

        return credentials;
    }

    public bool Matches(string? presentedToken)
    {
        if (presentedToken is null)
        {
            return false;
        }

        var expected = System.Text.Encoding.UTF8.GetBytes(Token);
        var actual = System.Text.Encoding.UTF8.GetBytes(presentedToken);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}
