using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Postern.Pki;

/// <summary>
/// Encrypts private keys at rest: PKCS#8 under AES-256-GCM with a key-encryption key that lives in
/// <c>keys/master.key</c> beside (never inside) the database, so a copied database alone reveals no key.
/// </summary>
internal sealed class KeyProtector
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + NonceSize + TagSize;
    private const int MasterKeySize = 32;

    // Binds every blob to its purpose so a ciphertext cannot be replayed as some other kind of secret.
    private static readonly byte[] AssociatedData = "postern-pki-private-key-v1"u8.ToArray();

    private readonly string _masterKeyPath;
    private readonly Lock _gate = new();
    private byte[]? _masterKey;

    public KeyProtector(string dataDirectory)
    {
        _masterKeyPath = Path.Combine(dataDirectory, "keys", "master.key");
    }

    public string MasterKeyPath => _masterKeyPath;

    public byte[] Protect(ReadOnlySpan<byte> plaintext) => Protect(plaintext, AssociatedData);

    /// <summary>Encrypts under the master key, bound to <paramref name="associatedData"/> (the secret's purpose).</summary>
    public byte[] Protect(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var blob = new byte[HeaderSize + plaintext.Length];
        blob[0] = FormatVersion;
        var nonce = blob.AsSpan(1, NonceSize);
        var tag = blob.AsSpan(1 + NonceSize, TagSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(MasterKey(), TagSize);
        aes.Encrypt(nonce, plaintext, blob.AsSpan(HeaderSize), tag, associatedData);
        return blob;
    }

    /// <summary>False when the blob is damaged or was made under another master key.</summary>
    public bool TryUnprotect(ReadOnlySpan<byte> blob, out byte[] plaintext) => TryUnprotect(blob, AssociatedData, out plaintext);

    /// <summary>False when the blob is damaged, was made under another master key, or for another purpose.</summary>
    public bool TryUnprotect(ReadOnlySpan<byte> blob, ReadOnlySpan<byte> associatedData, out byte[] plaintext)
    {
        plaintext = [];
        if (blob.Length < HeaderSize || blob[0] != FormatVersion)
        {
            return false;
        }

        var result = new byte[blob.Length - HeaderSize];
        try
        {
            using var aes = new AesGcm(MasterKey(), TagSize);
            aes.Decrypt(blob.Slice(1, NonceSize), blob[HeaderSize..], blob.Slice(1 + NonceSize, TagSize), result, associatedData);
        }
        catch (CryptographicException)
        {
            return false;
        }

        plaintext = result;
        return true;
    }

    public byte[] ProtectKey(AsymmetricAlgorithm key)
    {
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            return Protect(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>Decrypts and imports a key (RSA or ECDSA, told apart by the PKCS#8 algorithm identifier).</summary>
    public AsymmetricAlgorithm UnprotectKey(ReadOnlySpan<byte> blob)
    {
        if (!TryUnprotect(blob, out var pkcs8))
        {
            throw new CryptographicException($"a private key could not be decrypted: the master key in {_masterKeyPath} does not match the database (a node sharing a store needs a copy of the first node's keys/master.key)");
        }

        try
        {
            AsymmetricAlgorithm key = ReadAlgorithmOid(pkcs8) switch
            {
                KeyAlgorithms.RsaOid => RSA.Create(),
                KeyAlgorithms.EcPublicKeyOid => ECDsa.Create(),
                var other => throw new CryptographicException("unsupported private key algorithm " + other),
            };
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    // RFC 5208 §5: PrivateKeyInfo ::= SEQUENCE { version, privateKeyAlgorithm AlgorithmIdentifier, privateKey, ... }
    private static string ReadAlgorithmOid(byte[] pkcs8)
    {
        try
        {
            var info = new AsnReader(pkcs8, AsnEncodingRules.DER).ReadSequence();
            _ = info.ReadInteger();
            return info.ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException ex)
        {
            throw new CryptographicException("a stored private key is not valid PKCS#8", ex);
        }
    }

    private byte[] MasterKey()
    {
        lock (_gate)
        {
            return _masterKey ??= LoadOrCreateMasterKey();
        }
    }

    private byte[] LoadOrCreateMasterKey()
    {
        if (File.Exists(_masterKeyPath))
        {
            return ReadMasterKey();
        }

        var folder = Path.GetDirectoryName(_masterKeyPath)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var key = RandomNumberGenerator.GetBytes(MasterKeySize);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(_masterKeyPath, options);
            stream.Write(key);
            stream.Flush(flushToDisk: true);
            return key;
        }
        catch (IOException) when (File.Exists(_masterKeyPath))
        {
            // Another process created it first: use theirs, or its keys would be unreadable to us.
            return ReadMasterKey();
        }
    }

    private byte[] ReadMasterKey()
    {
        var key = File.ReadAllBytes(_masterKeyPath);
        if (key.Length != MasterKeySize)
        {
            throw new InvalidDataException($"{_masterKeyPath} must hold exactly {MasterKeySize} bytes");
        }

        return key;
    }
}
