"""What the channels do for hitl: send a held reply once it is approved (with the approver's
edit), put it aside when it is not, and tell a requester how their request ended, on the channel
they asked on. Registered with hitl's registry in ChannelsAppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from channels_app.models import Conversation, Message
from channels_app.outbound import message_deliver, message_send
from channels_app.search_index import messages_index
from hitl.models import Approval
from hitl.registry import ExecutionError


def held_reply_send(approval: Approval) -> dict[str, Any]:
    reply = Message.objects.select_related("conversation").filter(pk=approval.message_id).first()
    if reply is None:
        raise ExecutionError("The held reply no longer exists.")
    claimed = Message.objects.filter(
        pk=reply.pk, delivery_status=Message.DeliveryStatus.HELD
    ).update(delivery_status=Message.DeliveryStatus.QUEUED)
    if not claimed:
        # Sent by an earlier run of this approval: say so, never send twice.
        return {"message_id": reply.pk, "status": reply.delivery_status, "already_sent": True}
    reply.delivery_status = Message.DeliveryStatus.QUEUED
    message_deliver(message=reply)
    reply.refresh_from_db()
    if reply.delivery_status == Message.DeliveryStatus.FAILED:
        raise ExecutionError(f"The reply could not be sent: {reply.error_message}")
    return {
        "message_id": reply.pk,
        "status": reply.delivery_status,
        "edited": "edited_by" in reply.metadata,
    }


def held_reply_edit(approval: Approval, text: str, user: Any) -> None:
    reply = Message.objects.select_for_update().filter(pk=approval.message_id).first()
    if reply is None or reply.delivery_status != Message.DeliveryStatus.HELD:
        raise ValidationError({"edited_reply": "The reply is no longer waiting to be sent."})
    reply.body = text
    reply.metadata = {**reply.metadata, "edited_by": user.pk}
    reply.save(update_fields=["body", "metadata"])
    messages_index([reply])


def held_reply_discard(approval: Approval) -> None:
    if approval.message_id is None or approval.conversation_id is None:
        return  # a held reply's approval always names both
    Message.objects.filter(
        pk=approval.message_id, delivery_status=Message.DeliveryStatus.HELD
    ).update(
        delivery_status=Message.DeliveryStatus.FAILED,
        error_code="not_approved",
        error_message=f"{approval.get_status_display()}: {approval.reason}"[:300],
    )
    Conversation.objects.filter(
        pk=approval.conversation_id, status=Conversation.Status.WAITING
    ).update(status=Conversation.Status.ACTIVE)


def requester_tell_on_channel(approval: Approval, text: str) -> bool:
    conversation = (
        Conversation.objects.select_related("tenant").filter(pk=approval.conversation_id).first()
    )
    if conversation is None:
        return False
    # Tied to the turn that asked, so that the channel can show the turn's approvals anew (the
    # chat page redraws its action cards).
    proposal = Message.objects.select_related("reply_to").filter(pk=approval.message_id).first()
    notice = message_send(
        conversation=conversation,
        reply_to=proposal.reply_to if proposal is not None else None,
        sender_kind=Message.SenderKind.SYSTEM,
        body=text,
        metadata={"approval_id": approval.pk, "approval_status": approval.status},
    )
    return notice.delivery_status != Message.DeliveryStatus.FAILED
