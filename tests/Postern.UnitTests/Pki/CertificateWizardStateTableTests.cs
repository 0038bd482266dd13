using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class CertificateWizardStateTableTests
{
    public static TheoryData<CertificateWizardState, CertificateWizardAction, bool> Matrix()
    {
        const CertificateWizardState none = CertificateWizardState.NoPendingRequest;
        const CertificateWizardState pending = CertificateWizardState.PendingRequest;
        const CertificateWizardState installed = CertificateWizardState.Installed;
        var allowed = new Dictionary<CertificateWizardState, CertificateWizardAction[]>
        {
            [none] = [CertificateWizardAction.PrepareRequest, CertificateWizardAction.SubmitToOnlineCa, CertificateWizardAction.AssignExisting, CertificateWizardAction.ImportPfx],
            [pending] = [CertificateWizardAction.ProcessPendingRequest, CertificateWizardAction.DeletePendingRequest],
            [installed] =
            [
                CertificateWizardAction.PrepareRequest, CertificateWizardAction.SubmitToOnlineCa, CertificateWizardAction.AssignExisting, CertificateWizardAction.Remove,
                CertificateWizardAction.Renew, CertificateWizardAction.ImportPfx, CertificateWizardAction.ExportPfx,
            ],
        };
        var data = new TheoryData<CertificateWizardState, CertificateWizardAction, bool>();
        foreach (var state in Enum.GetValues<CertificateWizardState>())
        {
            foreach (var action in Enum.GetValues<CertificateWizardAction>())
            {
                data.Add(state, action, allowed[state].Contains(action));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Every_state_and_action_pair_is_decided(CertificateWizardState state, CertificateWizardAction action, bool expected) =>
        Assert.Equal(expected, CertificateWizardStateTable.IsAllowed(state, action));

    [Theory]
    [InlineData(CertificateWizardState.NoPendingRequest, CertificateWizardAction.PrepareRequest, false, false, CertificateWizardState.PendingRequest)]
    [InlineData(CertificateWizardState.NoPendingRequest, CertificateWizardAction.SubmitToOnlineCa, true, false, CertificateWizardState.Installed)]
    [InlineData(CertificateWizardState.NoPendingRequest, CertificateWizardAction.SubmitToOnlineCa, false, true, CertificateWizardState.PendingRequest)]
    [InlineData(CertificateWizardState.PendingRequest, CertificateWizardAction.ProcessPendingRequest, true, false, CertificateWizardState.Installed)]
    [InlineData(CertificateWizardState.PendingRequest, CertificateWizardAction.DeletePendingRequest, false, false, CertificateWizardState.NoPendingRequest)]
    [InlineData(CertificateWizardState.PendingRequest, CertificateWizardAction.DeletePendingRequest, true, false, CertificateWizardState.Installed)]
    [InlineData(CertificateWizardState.Installed, CertificateWizardAction.Remove, false, false, CertificateWizardState.NoPendingRequest)]
    [InlineData(CertificateWizardState.Installed, CertificateWizardAction.Remove, true, false, CertificateWizardState.Installed)]
    [InlineData(CertificateWizardState.Installed, CertificateWizardAction.Renew, true, false, CertificateWizardState.Installed)]
    [InlineData(CertificateWizardState.Installed, CertificateWizardAction.ExportPfx, true, false, CertificateWizardState.Installed)]
    [InlineData(CertificateWizardState.NoPendingRequest, CertificateWizardAction.ImportPfx, true, false, CertificateWizardState.Installed)]
    public void Transitions_lead_where_the_wizard_says(CertificateWizardState from, CertificateWizardAction action, bool hasCertificate, bool heldAtCa, CertificateWizardState expected) =>
        Assert.Equal(expected, CertificateWizardStateTable.Next(from, action, hasCertificate, heldAtCa));

    [Fact]
    public async Task Persisted_state_follows_the_table_through_a_whole_lifecycle()
    {
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        await f.Pki.EnsureInitializedAsync(PkiFixture.HostName, "Org", default);
        var vs = await f.AddVirtualServerAsync("Second SMTP Virtual Server", Postern.Store.ServiceProtocol.Smtp);
        var form = new CertificateRequestForm { CommonName = "second.example.com", Country = "US" };

        async Task Expect(CertificateWizardState state) => Assert.Equal(state, (await f.Pki.GetWizardStatusAsync(vs, default))!.State);

        await Expect(CertificateWizardState.NoPendingRequest);
        Assert.False((await f.Pki.RenewCertificateAsync(vs, default)).Succeeded);
        Assert.True((await f.Pki.PrepareRequestAsync(vs, form, default)).Succeeded);
        await Expect(CertificateWizardState.PendingRequest);
        Assert.True((await f.Pki.DeletePendingRequestAsync(vs, default)).Succeeded);
        await Expect(CertificateWizardState.NoPendingRequest);
        Assert.True((await f.Pki.SubmitRequestToOnlineCaAsync(vs, form, default)).Succeeded);
        await Expect(CertificateWizardState.Installed);
        Assert.True((await f.Pki.RenewCertificateAsync(vs, default)).Succeeded);
        await Expect(CertificateWizardState.Installed);
        Assert.True((await f.Pki.RemoveCertificateAsync(vs, null, default)).Succeeded);
        await Expect(CertificateWizardState.NoPendingRequest);

        var audit = await f.Pki.ListWizardAuditAsync(vs, default);
        Assert.Equal(
            ["Renew refused", "PrepareRequest ok", "DeletePendingRequest ok", "SubmitToOnlineCa ok", "Renew ok", "Remove ok"],
            audit.Select(a => a.Step + " " + a.Outcome));
        foreach (var entry in audit.Where(a => a.Outcome == "ok"))
        {
            var action = Enum.Parse<CertificateWizardAction>(entry.Step);
            var from = Enum.Parse<CertificateWizardState>(entry.FromState);
            Assert.Equal(Enum.Parse<CertificateWizardState>(entry.ToState), CertificateWizardStateTable.Next(from, action, entry.ToState == "Installed", heldAtCa: false));
        }
    }

    [Theory]
    [InlineData(CertificateWizardState.Installed, CertificateWizardAction.ProcessPendingRequest)]
    [InlineData(CertificateWizardState.NoPendingRequest, CertificateWizardAction.ProcessPendingRequest)]
    [InlineData(CertificateWizardState.Installed, CertificateWizardAction.DeletePendingRequest)]
    [InlineData(CertificateWizardState.NoPendingRequest, CertificateWizardAction.DeletePendingRequest)]
    public void Processing_or_deleting_without_a_pending_request_says_there_is_none(CertificateWizardState state, CertificateWizardAction action)
    {
        // 'cert install' twice, or before 'cert request --offline': the refusal names what is missing, not only a state.
        var refusal = CertificateWizardStateTable.Describe(state, action);
        Assert.Contains("there is no pending request", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("no certificate is installed", refusal, StringComparison.Ordinal);
    }
}
