#include "service_kb.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace bulkhead::analyzer {
namespace {

using D = model::DataDirection;
using K = model::EdgeKind;

struct Known {
    std::string_view name;
    K kind;
    D direction;
    bool dom0Hardened;
};

constexpr std::array kKnown = {
    Known{"qubes.VMShell", K::Admin, D::Control, false},
    Known{"qubes.VMRootShell", K::Admin, D::Control, false},
    Known{"qubes.VMExec", K::Admin, D::Control, false},
    Known{"qubes.VMExecGUI", K::Admin, D::Control, false},
    Known{"qubes.InputKeyboard", K::Device, D::Push, false},
    Known{"qubes.InputMouse", K::Device, D::Push, false},
    Known{"qubes.InputTablet", K::Device, D::Push, false},
    Known{"qubes.USB", K::Device, D::Both, false},
    Known{"qubes.USBAttach", K::Device, D::Both, false},
    Known{"qubes.USBDetach", K::Device, D::Both, false},
    Known{"qubes.Filecopy", K::Rpc, D::Push, false},
    Known{"qubes.OpenInVM", K::Rpc, D::Push, false},
    Known{"qubes.OpenURL", K::Rpc, D::Push, false},
    Known{"qubes.ClipboardPaste", K::Rpc, D::Push, false},
    Known{"qubes.StartApp", K::Rpc, D::Push, false},
    Known{"qubes.GpgImportKey", K::Rpc, D::Push, false},
    Known{"qubes.UpdatesProxy", K::Rpc, D::Pull, false},
    Known{"qubes.GetDate", K::Rpc, D::Pull, false},
    Known{"qubes.GetRandomizedTime", K::Rpc, D::Pull, false},
    Known{"qubes.GetImageRGBA", K::Rpc, D::Pull, false},
    Known{"qubes.FeaturesRequest", K::Rpc, D::Push, true},
    Known{"qubes.NotifyTools", K::Rpc, D::Push, true},
    Known{"qubes.NotifyUpdates", K::Rpc, D::Push, true},
    Known{"qubes.SyncAppMenus", K::Rpc, D::Push, true},
    Known{"qubes.Notifications", K::Rpc, D::Push, true},
    Known{"qubes.ReceiveUpdates", K::Rpc, D::Push, true},
    Known{"qubes.WindowIconUpdater", K::Rpc, D::Push, true},
};

} // namespace

ServiceNature serviceNature(const model::Policy& policy, const std::string& service) {
    for (const model::RpcServiceDecl& d : policy.rpcServices)
        if (d.name == service)
            return {d.direction == D::Control ? K::Admin : K::Rpc, d.direction, false};
    for (const Known& k : kKnown)
        if (k.name == service)
            return {k.kind, k.direction, k.dom0Hardened};
    if (service.starts_with("admin.") || service.starts_with("policy."))
        return {K::Admin, D::Control, false};
    return {K::Rpc, D::Both, false};
}

} // namespace bulkhead::analyzer
