from celery import shared_task

from audit import rejections


@shared_task(ignore_result=True)
def summarize_rejections() -> int:
    """Summary rows for ended windows of aggregated refusals (audit.rejections)."""
    return rejections.summarize_ended_windows()
