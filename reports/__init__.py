"""Documents made from the plan for people outside the chat: the status chart and the PDF report
for the committee. Pure rendering (matplotlib, fpdf2) plus the storage calls that gather what is
drawn; no Telegram here, so the command line and the handlers share it."""
