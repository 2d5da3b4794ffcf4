# Frames from other sites replay without a browser: the cassette carries the
# frame's own session (auto-attached, flat) and the commands sent on it.

t_frames_oopif_invite_replays() {
	c="$CASSETTES/hooli-invite.jsonl"
	# the widget's commands went to a session of its own, attached to the page's
	page=$(jq -r 'select(.dir == "recv" and .result.sessionId) | .result.sessionId' "$c" | head -1)
	jq -s -e --arg p "$page" '[.[] | select(.dir == "event" and .method == "Target.attachedToTarget"
		and .sessionId == $p and .params.targetInfo.type == "iframe")] | length >= 1' "$c" >/dev/null ||
		fail "no frame target attached to the page's session in $c"
	frame=$(jq -r --arg p "$page" 'select(.dir == "event" and .method == "Target.attachedToTarget"
		and .sessionId == $p and .params.targetInfo.type == "iframe") | .params.sessionId' "$c" | tail -1)
	jq -s -e --arg f "$frame" '[.[] | select(.dir == "send" and .sessionId == $f
		and .method == "Runtime.evaluate")] | length >= 3' "$c" >/dev/null ||
		fail "no helper calls on the frame's session $frame"
	replay hooli-invite
	expect_rc 0
	expect_out "dinesh@hooli.test  inviting → pending_user_claim"
	expect_err "outcome as recorded"
	replay hooli-invite-refused
	expect_rc 1
	expect_err 'Hooli refused the invite: invalid email "erlich@hooli"'
}
