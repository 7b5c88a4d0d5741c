#include "bulkhead/compiler/qubes_facts.h"

#include <regex>
#include <vector>

namespace bulkhead::qubes {

std::optional<std::string> invalidQubeNameReason(std::string_view name) {
    // qubes-core-admin qubes/vm/__init__.py validate_name.
    if (name.size() > 31)
        return "it is longer than 31 characters";
    static const std::regex kPattern("[a-zA-Z][a-zA-Z0-9_.-]*");
    if (!std::regex_match(name.begin(), name.end(), kPattern))
        return "it must start with a letter and hold only letters, digits, '_', '.' and '-'";
    if (name == "none" || name == "default" || name == "Domain-0")
        return "'" + std::string(name) + "' is reserved by Qubes";
    if (name.ends_with("-dm"))
        return "names ending in '-dm' are reserved for device-model stubdomains";
    return std::nullopt;
}

std::span<const std::string> knownRpcServices() {
    // Services named by Qubes' shipped policy.d (shared/corpus) and the core agents.
    static const std::vector<std::string> kServices = {
        "qubes.ClipboardPaste",
        "qubes.ConnectTCP",
        "qubes.Filecopy",
        "qubes.GetDate",
        "qubes.GetImageRGBA",
        "qubes.GetRandomizedTime",
        "qubes.Gpg",
        "qubes.Gpg2",
        "qubes.GpgImportKey",
        "qubes.InputKeyboard",
        "qubes.InputMouse",
        "qubes.InputTablet",
        "qubes.NotifyTools",
        "qubes.NotifyUpdates",
        "qubes.OpenInVM",
        "qubes.OpenURL",
        "qubes.PdfConvert",
        "qubes.ReceiveUpdates",
        "qubes.StartApp",
        "qubes.SyncAppMenus",
        "qubes.UpdatesProxy",
        "qubes.USB",
        "qubes.USBAttach",
        "qubes.USBDetach",
        "qubes.VMExec",
        "qubes.VMExecGUI",
        "qubes.VMRootShell",
        "qubes.VMShell",
        "qubes.WindowIconUpdater",
        "qubes.Backup",
        "qubes.Restore",
        "qubes.GetAppmenus",
        "qubes.SuspendPre",
        "qubes.SuspendPost",
        "qubes.WaitForSession",
        "qubes.SelectFile",
        "qubes.SelectDirectory",
        "qubes.InstallUpdatesGUI",
        "qubes.TemplateSearch",
        "qubes.TemplateDownload",
        "qubes.FeaturesRequest",
        "qubes.Notifications",
        "qubes.RestoreById",
        "sdwdate.Connect",
        "sdwdate.ConnectCheck",
        "sdwdate-gui.Connect",
        "sdwdate-gui.ConnectCheck",
        "policy.RegisterArgument",
        "admin.property.GetAll",
        "u2f.Authenticate",
        "u2f.Register",
        "ctap.GetInfo",
        "ctap.ClientPin",
        "qvc.ScreenShare",
        "qvc.Webcam",
        "whonix.NewStatus",
        "whonix.SdwdateStatus",
        "whonix.GatewayCommand",
        "policy.List",
        "policy.Get",
        "policy.Replace",
        "policy.Remove",
        "policy.include.List",
        "policy.include.Get",
        "policy.include.Replace",
        "policy.include.Remove",
        "policy.GetFiles",
        "admin.vm.List",
        "admin.vm.Create.AppVM",
        "admin.vm.Start",
        "admin.vm.Shutdown",
        "admin.vm.Kill",
        "admin.vm.Remove",
        "admin.vm.property.Get",
        "admin.vm.property.Set",
        "admin.vm.feature.Get",
        "admin.vm.feature.Set",
        "admin.vm.firewall.Get",
        "admin.vm.firewall.Set",
        "admin.vm.device.block.Attach",
        "admin.vm.device.usb.Attach",
        "admin.vm.tag.Set",
        "admin.vm.volume.Import",
        "admin.backup.Execute",
        "admin.Events",
    };
    return kServices;
}

std::span<const std::string> qubeClasses() {
    static const std::vector<std::string> kClasses = {"AdminVM",  "AppVM",        "DispVM",
                                                      "RemoteVM", "StandaloneVM", "TemplateVM"};
    return kClasses;
}

} // namespace bulkhead::qubes
