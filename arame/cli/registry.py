"""The one table from command name to command class.

Entry points in the ``arame.cli`` namespace are loaded first, so plug-in
packages can add commands; the table fills in the built-in ones, which keeps
the CLI working from a source tree whose entry points are not installed.
"""

from __future__ import annotations

from cliff.commandmanager import CommandManager

from arame.cli.commands import (
    account,
    auth,
    baremetal,
    flavor,
    floating_ip,
    host,
    host_evacuate,
    image,
    instance,
    key_pair,
    network,
    quota,
    router,
    security_group,
    snapshot,
    task,
    unit,
    unit_group,
    usage,
    user,
    version,
    volume,
)

NAMESPACE = "arame.cli"

COMMANDS = {
    "login": auth.Login,
    "instance create": instance.CreateInstance,
    "instance list": instance.ListInstance,
    "instance show": instance.ShowInstance,
    "instance delete": instance.DeleteInstance,
    "instance start": instance.StartInstance,
    "instance stop": instance.StopInstance,
    "instance reboot": instance.RebootInstance,
    "instance console": instance.ShowInstanceConsole,
    "instance set-security-groups": instance.SetInstanceSecurityGroups,
    "task show": task.ShowTask,
    "task list": task.ListTask,
    "host list": host.ListHost,
    "host show": host.ShowHost,
    "host disable": host.DisableHost,
    "host enable": host.EnableHost,
    "host maintenance": host.MaintenanceHost,
    "host evacuate": host_evacuate.EvacuateHost,
    "flavor list": flavor.ListFlavor,
    "image list": image.ListImage,
    "image show": image.ShowImage,
    "image create": image.CreateImage,
    "image upload": image.UploadImage,
    "image delete": image.DeleteImage,
    "key-pair create": key_pair.CreateKeyPair,
    "key-pair list": key_pair.ListKeyPair,
    "key-pair show": key_pair.ShowKeyPair,
    "key-pair delete": key_pair.DeleteKeyPair,
    "usage list": usage.ListUsage,
    "network create": network.CreateNetwork,
    "network list": network.ListNetwork,
    "network show": network.ShowNetwork,
    "network delete": network.DeleteNetwork,
    "security-group create": security_group.CreateSecurityGroup,
    "security-group list": security_group.ListSecurityGroup,
    "security-group show": security_group.ShowSecurityGroup,
    "security-group update": security_group.UpdateSecurityGroup,
    "security-group delete": security_group.DeleteSecurityGroup,
    "volume create": volume.CreateVolume,
    "volume list": volume.ListVolume,
    "volume show": volume.ShowVolume,
    "volume delete": volume.DeleteVolume,
    "volume attach": volume.AttachVolume,
    "volume detach": volume.DetachVolume,
    "baremetal node create": baremetal.CreateNode,
    "baremetal node list": baremetal.ListNode,
    "baremetal node show": baremetal.ShowNode,
    "baremetal node manage": baremetal.ManageNode,
    "baremetal node provide": baremetal.ProvideNode,
    "baremetal node delete": baremetal.DeleteNode,
    "snapshot create": snapshot.CreateSnapshot,
    "snapshot list": snapshot.ListSnapshot,
    "snapshot show": snapshot.ShowSnapshot,
    "snapshot delete": snapshot.DeleteSnapshot,
    "account create": account.CreateAccount,
    "account list": account.ListAccount,
    "account show": account.ShowAccount,
    "account set": account.SetAccount,
    "account disable": account.DisableAccount,
    "account enable": account.EnableAccount,
    "account delete": account.DeleteAccount,
    "user create": user.CreateUser,
    "user list": user.ListUser,
    "user show": user.ShowUser,
    "user set": user.SetUser,
    "user disable": user.DisableUser,
    "user enable": user.EnableUser,
    "user reset-password": user.ResetUserPassword,
    "user delete": user.DeleteUser,
    "quota show": quota.ShowQuota,
    "quota set": quota.SetQuota,
    "unit-group create": unit_group.CreateUnitGroup,
    "unit-group list": unit_group.ListUnitGroup,
    "unit-group show": unit_group.ShowUnitGroup,
    "unit-group delete": unit_group.DeleteUnitGroup,
    "unit create": unit.CreateUnit,
    "unit list": unit.ListUnit,
    "unit show": unit.ShowUnit,
    "unit add-nodes": unit.AddNodes,
    "unit delete-nodes": unit.DeleteNodes,
    "unit power-on": unit.PowerOnUnit,
    "unit power-off": unit.PowerOffUnit,
    "unit delete": unit.DeleteUnit,
    "router create": router.CreateRouter,
    "router list": router.ListRouter,
    "router show": router.ShowRouter,
    "router set": router.SetRouter,
    "router delete": router.DeleteRouter,
    "router add-network": router.AddRouterNetwork,
    "router remove-network": router.RemoveRouterNetwork,
    "router set-gateway": router.SetRouterGateway,
    "router unset-gateway": router.UnsetRouterGateway,
    "floating-ip create": floating_ip.CreateFloatingIP,
    "floating-ip list": floating_ip.ListFloatingIP,
    "floating-ip show": floating_ip.ShowFloatingIP,
    "floating-ip delete": floating_ip.DeleteFloatingIP,
    "floating-ip associate": floating_ip.AssociateFloatingIP,
    "floating-ip disassociate": floating_ip.DisassociateFloatingIP,
    "version": version.ShowVersion,
}


def build_command_manager() -> CommandManager:
    manager = CommandManager(NAMESPACE)
    for name, command_class in COMMANDS.items():
        if name not in manager.commands:
            manager.add_command(name, command_class)
    return manager


def entry_points() -> list[str]:
    """The ``[entry_points] arame.cli`` lines for setup.cfg."""
    return [
        f"{name.replace(' ', '_')} = {cls.__module__}:{cls.__name__}"
        for name, cls in COMMANDS.items()
    ]
