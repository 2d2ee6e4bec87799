"""The lab's libvirt gives guests no private mount namespace (a copy of the
host's mounts kept ZFS datasets busy while any later guest ran)."""

from arame.deploy.infra import qemuconf


def test_namespaces_off_once_and_other_settings_kept(tmp_path):
    conf = tmp_path / "qemu.conf"
    conf.write_text(
        '#namespaces = [ "mount" ]\nuser = "libvirt-qemu"\n'
        'namespaces = [ "mount" ]\n'
    )
    assert qemuconf.qemu_without_mount_namespaces(str(conf)) is True
    text = conf.read_text()
    assert 'user = "libvirt-qemu"' in text
    assert [
        ln for ln in text.splitlines() if ln.lstrip().startswith("namespaces")
    ] == ["namespaces = []"]
    assert qemuconf.qemu_without_mount_namespaces(str(conf)) is False
    assert conf.read_text() == text
