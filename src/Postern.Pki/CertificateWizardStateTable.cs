namespace Postern.Pki;

/// <summary>The certificate wizard's states for one virtual server (the IIS/Exchange Web Server Certificate Wizard).</summary>
public enum CertificateWizardState
{
    NoPendingRequest = 0,
    PendingRequest = 1,
    Installed = 2,
}

public enum CertificateWizardAction
{
    /// <summary>"Prepare the request now, but send it later": writes certreq.txt, keeps the key pending.</summary>
    PrepareRequest = 0,

    /// <summary>"Send the request immediately to an online certification authority" (the built-in CA).</summary>
    SubmitToOnlineCa = 1,

    /// <summary>"Process the pending request and install the certificate".</summary>
    ProcessPendingRequest = 2,

    /// <summary>"Delete the pending request".</summary>
    DeletePendingRequest = 3,

    /// <summary>"Assign an existing certificate".</summary>
    AssignExisting = 4,

    /// <summary>"Remove the current certificate".</summary>
    Remove = 5,

    /// <summary>"Renew the current certificate" (new key, same names, built-in CA).</summary>
    Renew = 6,

    /// <summary>"Import a certificate from a .pfx file".</summary>
    ImportPfx = 7,

    /// <summary>"Export the current certificate to a .pfx file".</summary>
    ExportPfx = 8,
}

/// <summary>
/// Which wizard action is allowed in which state, and where it leads. As in the original wizard, a pending request
/// blocks everything except processing or deleting it; the installed certificate keeps serving meanwhile.
/// </summary>
public static class CertificateWizardStateTable
{
    public static bool IsAllowed(CertificateWizardState state, CertificateWizardAction action) => state switch
    {
        CertificateWizardState.NoPendingRequest => action is CertificateWizardAction.PrepareRequest or CertificateWizardAction.SubmitToOnlineCa
            or CertificateWizardAction.AssignExisting or CertificateWizardAction.ImportPfx,
        CertificateWizardState.PendingRequest => action is CertificateWizardAction.ProcessPendingRequest or CertificateWizardAction.DeletePendingRequest,
        CertificateWizardState.Installed => action is not (CertificateWizardAction.ProcessPendingRequest or CertificateWizardAction.DeletePendingRequest),
        _ => false,
    };

    /// <summary>
    /// The state after a successful action. <paramref name="stillHasCertificate"/> says whether the virtual server
    /// has a certificate assigned afterwards; <paramref name="heldAtCa"/> whether a standalone CA kept the request pending.
    /// </summary>
    public static CertificateWizardState Next(CertificateWizardState state, CertificateWizardAction action, bool stillHasCertificate, bool heldAtCa = false) => action switch
    {
        CertificateWizardAction.PrepareRequest => CertificateWizardState.PendingRequest,
        CertificateWizardAction.SubmitToOnlineCa => heldAtCa ? CertificateWizardState.PendingRequest : CertificateWizardState.Installed,
        CertificateWizardAction.ProcessPendingRequest or CertificateWizardAction.AssignExisting
            or CertificateWizardAction.Renew or CertificateWizardAction.ImportPfx => CertificateWizardState.Installed,
        CertificateWizardAction.DeletePendingRequest or CertificateWizardAction.Remove =>
            stillHasCertificate ? CertificateWizardState.Installed : CertificateWizardState.NoPendingRequest,
        CertificateWizardAction.ExportPfx => state,
        _ => state,
    };

    public static string Describe(CertificateWizardState state, CertificateWizardAction action) =>
        $"'{action}' is not possible while the virtual server is in state {state}" + (state, action) switch
        {
            (CertificateWizardState.PendingRequest, _) => ": process or delete the pending request first",
            (_, CertificateWizardAction.ProcessPendingRequest or CertificateWizardAction.DeletePendingRequest) =>
                ": there is no pending request (prepare one first: 'postern cert request VS --offline')",
            (CertificateWizardState.NoPendingRequest, _) => ": no certificate is installed",
            _ => "",
        };
}
