# burn_approval_in_dropped_epoch.sh with the seized device rotating by approving a waiting add
# after the notice: the rotation's grants then name a member whose add the notice voids, so the
# rotation is invalid rather than dropped, and the approval of the notice written in its epoch
# must still complete the notice.
KOLOKOL_VARIANT=approve exec bash "$(dirname "$0")/burn_approval_in_dropped_epoch.sh"
