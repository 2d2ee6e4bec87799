#!/bin/bash
# The CLI's everyday commands. The token `arame login` gets is kept in
# $ARAME_CONFIG_DIR (default ~/.config/arame); ARAME_URL says where the API is.
set -euo pipefail

arame login --username admin --password "$ARAME_PASSWORD" -f value -c username
image=$(arame image list -f value -c id | sed -n 1p)

# --wait follows the task and returns when it is done (or failed).
id=$(arame instance create cli1 --flavor small --image "$image" --wait \
     -f value -c id)
arame instance show "$id" -f value -c name -c status

arame instance stop "$id" --wait -f value -c task_status
arame instance list --status stopped -f value -c name

# A task's history: every step, the host it ran on and how long it took.
task=$(arame task list --resource-id "$id" -f value -c id | sed -n 1p)
arame task show "$task" -f value -c status

arame instance delete "$id" --wait -f value -c task_status
