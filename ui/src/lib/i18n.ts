// Russian and English. Russian is the default when the system's language is Russian.
const en = {
  tagline: 'Every client conversation, one calm window.',
  openDemo: 'Open demo workspace',
  demoHint: 'A workspace on this computer with sample channels, a CRM and clients who write now and then.',
  pickEmployee: 'Sign in to the demo as',
  connect: 'Connect to a hub',
  hubUrl: 'Hub URL',
  token: 'Token',
  connectButton: 'Connect',
  role_seller: 'seller',
  role_supervisor: 'supervisor',
  role_none: 'no chat access',
  receivesNew: 'receives new clients',
  filterMine: 'Mine to answer',
  filterOthers: 'Waiting for others',
  filterAll: 'All',
  noChats: 'No chats here.',
  pickChat: 'Pick a chat on the left.',
  online: 'Online',
  offline: 'Offline — showing what was synced',
  syncingChats: 'Syncing chats: {chats} of {total}',
  loadingEarlier: 'Loading earlier messages…',
  countSoFar: 'So far: the chats are still being synced',
  conversationStart: 'The beginning of the conversation',
  signOut: 'Sign out',
  markAnswered: 'Mark answered',
  markUnanswered: 'Mark as unanswered',
  markUnansweredHint: 'Answered too early: the chat waits for a reply again — red for whoever owes it, in the totals, escalated when its time runs out',
  reply: 'Write a reply…',
  send: 'Send',
  you: 'You',
  msg_image: 'Photo',
  msg_audio: 'Voice message',
  msg_video: 'Video',
  msg_document: 'Document',
  msg_vcard: 'Contact',
  msg_geo: 'Location',
  msg_missing_call: 'Missed call',
  msg_transfer: 'Chat handed over',
  msg_unsupported: 'A message this messenger cannot pass on',
  msg_unknown: 'A message of a kind Switchboard does not show yet',
  mediaPending: 'Receiving the file…',
  mediaTooBig: 'The file is too large to keep',
  mediaFailed: 'The file could not be received',
  mediaOffline: 'Not available offline',
  mediaOpen: 'Open',
  transport_whatsapp: 'WhatsApp',
  transport_wapi: 'WhatsApp Business API',
  transport_tgapi: 'Telegram',
  transport_telegram: 'Telegram bot',
  transport_viber: 'Viber',
  transport_instagram: 'Instagram',
  transport_vk: 'VK',
  transport_avito: 'Avito',
  transport_max: 'MAX',
  attach: 'Attach a file',
  draft: 'Draft',
  zoom: 'Show full size',
  shortcuts: 'Keyboard shortcuts',
  keyNextWaiting: 'Next chat waiting for my answer',
  keyPreviousWaiting: 'Previous chat waiting for my answer',
  keySend: 'Send',
  keyJump: 'Jump to a chat or an action',
  keyQuickReply: 'Quick reply (at the start of a line of the reply)',
  replyPersonalTag: 'personal',
  noRepliesYet: 'No quick replies yet — add them in Settings.',
  fillingReply: 'Writing the reply…',
  handingOver: 'Handing over…',
  loadingHistory: 'Loading the history back to that message…',
  historyNotReached: 'That message is further back than this window loads at once: scroll up to reach it.',
  err_hub_unreachable: 'The hub cannot be reached: this needs it. Try again once you are online.',
  err_already_responsible: 'The chat is already theirs.',
  err_no_crm_user: 'They have no Bitrix24 user yet: a supervisor sets it on the Employees screen.',
  err_crm_unreachable: 'The CRM did not take the change, so nothing changed here. Try again in a moment.',
  err_not_found: 'It is gone (changed elsewhere meanwhile).',
  err_forbidden: 'Your role may not do this.',
  err_limit_reached: 'That is as many as can be kept: remove one first.',
  quickReplies: 'Quick replies',
  quickRepliesHint: 'Type / at the start of a line of a reply to pick one. {client}, {manager}, {deal} and {company} are filled in from the chat, the CRM and your settings; what cannot be is marked, and Send waits until you fill it in or remove it.',
  repliesWorkspace: 'For everyone',
  repliesPersonal: 'Mine',
  replyTitle: 'Title',
  replyText: 'Text',
  replyForEveryone: 'For everyone (only supervisors can change these)',
  addReply: 'Add',
  saveReply: 'Save',
  editReply: 'Edit',
  deleteReply: 'Delete',
  deleteReplyConfirm: 'Delete «{title}»?',
  deleteWorkspaceReplyConfirm: 'Delete «{title}» for everyone in the workspace?',
  companyName: 'Company name, for {company}',
  noReplies: 'No quick replies yet.',
  noRepliesMatch: 'No quick reply matches what you typed.',
  pickerHint: '↑↓ choose · Enter or Tab insert · Esc close',
  fillIn: 'Fill in or remove before sending:',
  var_client: 'client’s name',
  var_manager: 'your name',
  var_deal: 'deal',
  var_company: 'company',
  unfilled_variable: 'Fill in or remove the marked parts first.',
  searchChannel: 'Channel to search',
  searchingHub: 'Looking through all history on the hub…',
  searchPartial: 'With this filter only the newest 20 000 messages with these words were looked through: add a word to find older ones.',
  allChannels: 'All channels',
  searchMine: 'Mine',
  searchPeriod: 'Period to search',
  periodAny: 'Any time',
  periodDay: 'Last 24 hours',
  periodWeek: 'Last 7 days',
  periodMonth: 'Last 30 days',
  periodYear: 'Last year',
  dndOn: 'Do not disturb (no notifications)',
  dndOff: 'Notify me again (end Do not disturb)',
  dndIsOn: 'Do not disturb',
  jumpTitle: 'Jump to',
  jumpPlaceholder: 'A client’s name or number, or an action…',
  jumpNothing: 'No chat or action matches',
  keyNewLine: 'New line',
  keyClose: 'Close what is open',
  keyShortcuts: 'This list',
  keySearch: 'Search messages',
  searchMessages: 'Search messages',
  searchShort: 'Words of 1 or 2 letters are not looked for',
  searchNothing: 'Nothing found on this computer',
  searchByNumber: 'Chats with this number',
  dropHere: 'Drop files to send them',
  removeFile: 'Remove',
  uploading: 'Sending the file…',
  file_empty: 'The file is empty',
  file_too_big: 'Too large for {transport}: at most {limit}',
  file_wrong_type: 'Files of this type ({mime}) cannot be sent',
  file_not_on_channel: '{transport} does not take files of this kind ({kind})',
  file_missing: 'The file is no longer on this computer',
  refused_upload_failed: 'The file did not reach the hub; try again',
  refused_file_too_big: 'The file is too large for this channel',
  refused_file_wrong_type: 'Files of this type cannot be sent',
  refused_file_not_on_channel: 'This channel does not take files of this kind',
  refused_file_empty: 'The file is empty',
  unanswered: 'unanswered',
  back: 'Back',
  demo: 'Demo',
  settings: 'Settings',
  crmIntegration: 'CRM integration',
  thisComputer: 'This computer',
  autostart: 'Start Switchboard when I log in',
  startHidden: 'Start hidden in the tray',
  sendWithCtrlEnter: 'Send with Ctrl+Enter (Enter starts a new line)',
  noTray: 'Your desktop shows no tray icons (GNOME needs the AppIndicator extension for them). Closing the window minimizes it instead, and the chats waiting for your answer are counted in the window title and on the launcher icon.',
  additional: 'Additional',
  saveToTimeline: 'Save messages to the event feed of the lead, contact and deal',
  eightAsPlus7: 'Treat CRM numbers written with 8 as +7 numbers',
  notifySupervisorsAll: 'Notify supervisors about all messages',
  notifySupervisorsAllHint: 'On: supervisors see every unanswered chat red and get every notification. Off: only their own chats; others are grey.',
  escalate: 'Escalate to supervisors after',
  sellersMayTransfer: 'Sellers may hand their own chats to colleagues',
  handOver: 'Hand over…',
  handOverHint: 'Hand this chat to a colleague: the lead, contact and deal become theirs in the CRM too',
  handOverTo: 'Hand this chat to',
  handOverNobody: 'There is nobody to hand it to.',
  handedOver: 'Handed over to {name}',
  minutes: 'minutes without a reply',
  readOnly: 'Only supervisors can change these settings.',
  close: 'Close',
  newMessage: 'New message',
  searchCrm: 'Find a lead, contact or deal — or type a number',
  writeToNumber: 'Write to this number',
  noMatches: 'Nothing found in the CRM.',
  to: 'To',
  channel: 'Channel',
  chooseChannel: 'Choose a channel',
  reason_not_set: 'You have no priority channel: choose one here.',
  reason_deleted: 'Your priority channel no longer exists: choose another.',
  reason_disabled: 'Your priority channel is switched off: choose another.',
  reason_unauthorized: 'Your priority channel lost its authorisation: choose another.',
  reason_not_active: 'Your priority channel cannot send right now: choose another.',
  reason_unknown: 'Your priority channel cannot be used now: choose another.',
  why_deleted: 'deleted',
  why_disabled: 'switched off',
  why_unauthorized: 'not authorised',
  why_not_active: 'not active',
  why_unknown: 'cannot send',
  message: 'Message',
  waitingForHub: 'Saved. It will be sent as soon as the hub is reachable.',
  waitingHere: 'Waiting to be sent',
  status_pending: 'waiting for the hub',
  status_queued: 'sending…',
  status_accepted: 'accepted',
  status_sent: 'sent',
  status_delivered: 'delivered',
  status_read: 'read',
  status_error: 'not delivered',
  status_failed: 'not sent',
  status_unknown: 'status unknown',
  retry: 'Retry',
  discard: 'Discard',
  employees: 'Employees',
  name: 'Name',
  role: 'Role',
  priorityChannel: 'Priority channel',
  none: '— none —',
  kind_lead: 'lead',
  kind_contact: 'contact',
  kind_deal: 'deal',
  priority: 'your priority channel',
  mirror_pending: 'CRM: queued',
  mirror_written: 'in CRM',
  mirror_failed: 'CRM: not written',
  skip_open_lines: 'not in CRM: Open Lines',
  skip_setting_off: 'not in CRM: setting off',
  skip_not_linked: 'not in CRM: no lead, contact or deal',
  skip_crm_changed: 'not in CRM: the CRM was switched before it was written',
  skip_unknown: 'not in CRM',
  crmPanel: 'CRM',
  responsible: 'Responsible',
  openInCrm: 'Open in CRM',
  stage_open: 'open',
  stage_closed: 'closed',
  noCrm: 'This chat belongs to no lead, contact or deal.',
  crmBuiltIn: 'Built-in CRM',
  crmBitrix: 'Bitrix24',
  webhookUrl: 'Bitrix24 incoming webhook URL',
  checkConnection: 'Check connection',
  save: 'Save',
  disconnect: 'Disconnect',
  connectedAs: 'as',
  crmUserId: 'CRM user ID',
  openInBitrix: 'Open in Bitrix24',
  crmSearchOffline: 'No connection to the hub: the CRM cannot be searched now. Type a number to write to it — the message goes when the connection is back.',
  crmEvents: 'CRM events (outgoing webhook)',
  crmEventsHint: 'In Bitrix24: Developer resources → Other → Outgoing webhook. Handler address below; events ONCRMLEADADD/UPDATE/DELETE, ONCRMCONTACT…, ONCRMDEAL…. Paste the application token it shows.',
  crmEventsOn: 'events arrive: changes in the CRM apply at once',
  crmEventsOff: 'no events: changes in the CRM apply within 30 s',
  applicationToken: 'Application token',
  accessEnded: 'Your access to this workspace was revoked or has ended — sign in again',
  refused_client_taken_owner: "This client is {owner}'s — ask a supervisor to hand the chat over",
  refused_client_taken: "This client is another employee's — ask a supervisor to hand the chat over",
  refused_no_chat_access: 'Your role has no access to chats',
  refused_access_ended: 'Not sent: your access ended before the hub took it. Retry once signed in, or discard it.',
  active: 'Active',
  deactivated: 'deactivated',
  deactivateConfirm: 'Deactivate {name}? Their desktops are signed out at once.',
  deactivate: 'Deactivate',
  cancel: 'Cancel',
  signIns: 'Sign-ins',
  signedInSince: 'signed in',
  noSignIns: 'No desktop is signed in.',
  revoke: 'Revoke',
  cannot_deactivate_self: 'You cannot deactivate yourself.',
} as const;

export type Key = keyof typeof en;

const ru: Record<Key, string> = {
  tagline: 'Все разговоры с клиентами — в одном спокойном окне.',
  openDemo: 'Открыть демо-пространство',
  demoHint: 'Пространство на этом компьютере: тестовые каналы, CRM и клиенты, которые время от времени пишут.',
  pickEmployee: 'Войти в демо как',
  connect: 'Подключиться к хабу',
  hubUrl: 'Адрес хаба',
  token: 'Токен',
  connectButton: 'Подключиться',
  role_seller: 'продавец',
  role_supervisor: 'руководитель',
  role_none: 'без доступа к чатам',
  receivesNew: 'получает новых клиентов',
  filterMine: 'Мне ответить',
  filterOthers: 'Ждут других',
  filterAll: 'Все',
  noChats: 'Здесь нет чатов.',
  pickChat: 'Выберите чат слева.',
  online: 'В сети',
  offline: 'Нет связи — показано то, что успело синхронизироваться',
  syncingChats: 'Загрузка чатов: {chats} из {total}',
  loadingEarlier: 'Загружаем более ранние сообщения…',
  countSoFar: 'Пока что: чаты ещё загружаются',
  conversationStart: 'Начало переписки',
  signOut: 'Выйти',
  markAnswered: 'Ответ не нужен',
  markUnanswered: 'Вернуть в неотвеченные',
  markUnansweredHint: 'Ответили слишком рано: чат снова ждёт ответа — красный у того, кто должен ответить, в счётчиках, с эскалацией по истечении времени',
  reply: 'Напишите ответ…',
  send: 'Отправить',
  you: 'Вы',
  msg_image: 'Фото',
  msg_audio: 'Голосовое сообщение',
  msg_video: 'Видео',
  msg_document: 'Документ',
  msg_vcard: 'Контакт',
  msg_geo: 'Геопозиция',
  msg_missing_call: 'Пропущенный звонок',
  msg_transfer: 'Чат передан',
  msg_unsupported: 'Сообщение, которое мессенджер не может передать',
  msg_unknown: 'Сообщение такого вида Switchboard пока не показывает',
  mediaPending: 'Файл загружается…',
  mediaTooBig: 'Файл слишком большой',
  mediaFailed: 'Не удалось получить файл',
  mediaOffline: 'Недоступно без сети',
  mediaOpen: 'Открыть',
  transport_whatsapp: 'WhatsApp',
  transport_wapi: 'WhatsApp Business API',
  transport_tgapi: 'Telegram',
  transport_telegram: 'Telegram-бот',
  transport_viber: 'Viber',
  transport_instagram: 'Instagram',
  transport_vk: 'ВКонтакте',
  transport_avito: 'Авито',
  transport_max: 'MAX',
  attach: 'Прикрепить файл',
  draft: 'Черновик',
  zoom: 'Показать целиком',
  shortcuts: 'Сочетания клавиш',
  keyNextWaiting: 'Следующий чат, ждущий моего ответа',
  keyPreviousWaiting: 'Предыдущий чат, ждущий моего ответа',
  keySend: 'Отправить',
  keyJump: 'Перейти к чату или действию',
  keyQuickReply: 'Быстрый ответ (в начале строки ответа)',
  replyPersonalTag: 'личный',
  noRepliesYet: 'Быстрых ответов пока нет — добавьте их в настройках.',
  fillingReply: 'Подставляем ответ…',
  handingOver: 'Передаём…',
  loadingHistory: 'Загружаем историю до этого сообщения…',
  historyNotReached: 'Это сообщение дальше, чем загружается за раз: прокрутите переписку вверх.',
  err_hub_unreachable: 'Нет связи с хабом, а без него это не сделать. Повторите, когда связь вернётся.',
  err_already_responsible: 'Чат уже у этого сотрудника.',
  err_no_crm_user: 'У сотрудника нет пользователя Битрикс24: его указывает руководитель на экране «Сотрудники».',
  err_crm_unreachable: 'CRM не приняла изменение, поэтому здесь ничего не изменилось. Повторите чуть позже.',
  err_not_found: 'Этого уже нет (изменили в другом месте).',
  err_forbidden: 'Вашей роли это недоступно.',
  err_limit_reached: 'Больше хранить нельзя: сначала удалите один.',
  quickReplies: 'Быстрые ответы',
  quickRepliesHint: 'Наберите / в начале строки ответа, чтобы выбрать готовый ответ. {клиент}, {менеджер}, {сделка} и {компания} (или {client}, {manager}, {deal}, {company}) заполняются из чата, CRM и настроек; что заполнить нельзя, подсвечивается, и «Отправить» ждёт, пока вы это заполните или удалите.',
  repliesWorkspace: 'Для всех',
  repliesPersonal: 'Мои',
  replyTitle: 'Название',
  replyText: 'Текст',
  replyForEveryone: 'Для всех (изменять их могут только руководители)',
  addReply: 'Добавить',
  saveReply: 'Сохранить',
  editReply: 'Изменить',
  deleteReply: 'Удалить',
  deleteReplyConfirm: 'Удалить «{title}»?',
  deleteWorkspaceReplyConfirm: 'Удалить «{title}» у всех в рабочем пространстве?',
  companyName: 'Название компании для {company}',
  noReplies: 'Быстрых ответов пока нет.',
  noRepliesMatch: 'Нет подходящих быстрых ответов.',
  pickerHint: '↑↓ выбрать · Enter или Tab вставить · Esc закрыть',
  fillIn: 'Заполните или удалите перед отправкой:',
  var_client: 'имя клиента',
  var_manager: 'ваше имя',
  var_deal: 'сделка',
  var_company: 'компания',
  unfilled_variable: 'Сначала заполните или удалите подсвеченное.',
  searchChannel: 'Канал для поиска',
  searchingHub: 'Ищем во всей истории на хабе…',
  searchPartial: 'С этим фильтром просмотрены только 20 000 самых новых сообщений с этими словами: добавьте слово, чтобы найти более старые.',
  allChannels: 'Все каналы',
  searchMine: 'Мои',
  searchPeriod: 'Период поиска',
  periodAny: 'За всё время',
  periodDay: 'За сутки',
  periodWeek: 'За 7 дней',
  periodMonth: 'За 30 дней',
  periodYear: 'За год',
  dndOn: 'Не беспокоить (без уведомлений)',
  dndOff: 'Снова уведомлять (выключить «Не беспокоить»)',
  dndIsOn: 'Не беспокоить',
  jumpTitle: 'Перейти',
  jumpPlaceholder: 'Имя или номер клиента, или действие…',
  jumpNothing: 'Нет подходящих чатов и действий',
  keyNewLine: 'Новая строка',
  keyClose: 'Закрыть открытое',
  keyShortcuts: 'Этот список',
  keySearch: 'Поиск по сообщениям',
  searchMessages: 'Поиск по сообщениям',
  searchShort: 'Слова из 1–2 букв не ищутся',
  searchNothing: 'На этом компьютере ничего не найдено',
  searchByNumber: 'Чаты с этим номером',
  dropHere: 'Отпустите файлы, чтобы отправить их',
  removeFile: 'Убрать',
  uploading: 'Файл отправляется…',
  file_empty: 'Файл пустой',
  file_too_big: 'Слишком большой для {transport}: не больше {limit}',
  file_wrong_type: 'Файлы такого типа ({mime}) отправить нельзя',
  file_not_on_channel: '{transport} не принимает такие файлы ({kind})',
  file_missing: 'Файла больше нет на этом компьютере',
  refused_upload_failed: 'Файл не дошёл до сервера; попробуйте ещё раз',
  refused_file_too_big: 'Файл слишком большой для этого канала',
  refused_file_wrong_type: 'Файлы такого типа отправить нельзя',
  refused_file_not_on_channel: 'Этот канал не принимает такие файлы',
  refused_file_empty: 'Файл пустой',
  unanswered: 'без ответа',
  back: 'Назад',
  demo: 'Демо',
  settings: 'Настройки',
  crmIntegration: 'Интеграция с CRM',
  thisComputer: 'Этот компьютер',
  autostart: 'Запускать Switchboard при входе в систему',
  startHidden: 'Запускать свёрнутым в трей',
  sendWithCtrlEnter: 'Отправлять по Ctrl+Enter (Enter — новая строка)',
  noTray: 'Ваш рабочий стол не показывает значки в трее (в GNOME для них нужно расширение AppIndicator). Поэтому закрытое окно сворачивается, а число чатов, ждущих вашего ответа, видно в заголовке окна и на значке в панели задач.',
  additional: 'Дополнительно',
  saveToTimeline: 'Сохранять сообщения в ленту событий лида, контакта и сделки',
  eightAsPlus7: 'Номера, записанные в CRM через 8, считать номерами с +7',
  notifySupervisorsAll: 'Уведомлять руководителей обо всех сообщениях',
  notifySupervisorsAllHint: 'Включено: руководители видят все неотвеченные чаты красными и получают все уведомления. Выключено: только свои чаты, чужие — серые.',
  escalate: 'Передавать руководителям чаты без ответа дольше',
  sellersMayTransfer: 'Продавцы могут передавать свои чаты коллегам',
  handOver: 'Передать…',
  handOverHint: 'Передать чат коллеге: лид, контакт и сделка в CRM тоже перейдут к нему',
  handOverTo: 'Передать чат',
  handOverNobody: 'Передать некому.',
  handedOver: 'Чат передан: {name}',
  minutes: 'минут',
  readOnly: 'Изменять эти настройки могут только руководители.',
  close: 'Закрыть',
  newMessage: 'Новое сообщение',
  searchCrm: 'Найдите лид, контакт или сделку — или введите номер',
  writeToNumber: 'Написать на этот номер',
  noMatches: 'В CRM ничего не нашлось.',
  to: 'Кому',
  channel: 'Канал',
  chooseChannel: 'Выберите канал',
  reason_not_set: 'У вас не задан приоритетный канал: выберите канал здесь.',
  reason_deleted: 'Вашего приоритетного канала больше нет: выберите другой.',
  reason_disabled: 'Ваш приоритетный канал выключен: выберите другой.',
  reason_unauthorized: 'Ваш приоритетный канал не авторизован: выберите другой.',
  reason_not_active: 'Ваш приоритетный канал сейчас не может отправлять: выберите другой.',
  reason_unknown: 'Ваш приоритетный канал сейчас недоступен: выберите другой.',
  why_deleted: 'удалён',
  why_disabled: 'выключен',
  why_unauthorized: 'не авторизован',
  why_not_active: 'не активен',
  why_unknown: 'не может отправлять',
  message: 'Сообщение',
  waitingForHub: 'Сохранено. Отправится, как только хаб будет доступен.',
  waitingHere: 'Ждут отправки',
  status_pending: 'ждёт связи с хабом',
  status_queued: 'отправляется…',
  status_accepted: 'принято',
  status_sent: 'отправлено',
  status_delivered: 'доставлено',
  status_read: 'прочитано',
  status_error: 'не доставлено',
  status_failed: 'не отправлено',
  status_unknown: 'статус неизвестен',
  retry: 'Повторить',
  discard: 'Удалить',
  employees: 'Сотрудники',
  name: 'Имя',
  role: 'Роль',
  priorityChannel: 'Приоритетный канал',
  none: '— нет —',
  kind_lead: 'лид',
  kind_contact: 'контакт',
  kind_deal: 'сделка',
  priority: 'ваш приоритетный канал',
  mirror_pending: 'CRM: в очереди',
  mirror_written: 'в CRM',
  mirror_failed: 'CRM: не записано',
  skip_open_lines: 'не в CRM: открытые линии',
  skip_setting_off: 'не в CRM: настройка выключена',
  skip_not_linked: 'не в CRM: нет лида, контакта или сделки',
  skip_crm_changed: 'не в CRM: CRM сменили до записи',
  skip_unknown: 'не в CRM',
  crmPanel: 'CRM',
  responsible: 'Ответственный',
  openInCrm: 'Открыть в CRM',
  stage_open: 'в работе',
  stage_closed: 'закрыта',
  noCrm: 'Чат не связан с лидом, контактом или сделкой.',
  crmBuiltIn: 'Встроенная CRM',
  crmBitrix: 'Битрикс24',
  webhookUrl: 'Адрес входящего вебхука Битрикс24',
  checkConnection: 'Проверить подключение',
  save: 'Сохранить',
  disconnect: 'Отключить',
  connectedAs: 'от имени',
  crmUserId: 'ID пользователя в CRM',
  openInBitrix: 'Открыть в Битрикс24',
  crmSearchOffline: 'Нет связи с хабом: поиск по CRM сейчас недоступен. Введите номер, чтобы написать на него, — сообщение уйдёт, когда связь вернётся.',
  crmEvents: 'События CRM (исходящий вебхук)',
  crmEventsHint: 'В Битрикс24: Разработчикам → Другое → Исходящий вебхук. Адрес обработчика ниже; события ONCRMLEADADD/UPDATE/DELETE, ONCRMCONTACT…, ONCRMDEAL…. Вставьте токен приложения, который он покажет.',
  crmEventsOn: 'события приходят: изменения в CRM применяются сразу',
  crmEventsOff: 'событий нет: изменения в CRM применяются в течение 30 с',
  applicationToken: 'Токен приложения',
  accessEnded: 'Доступ к рабочему пространству отозван или закончился — войдите снова',
  refused_client_taken_owner: 'Этот клиент закреплён за сотрудником {owner} — попросите руководителя передать чат',
  refused_client_taken: 'Этот клиент закреплён за другим сотрудником — попросите руководителя передать чат',
  refused_no_chat_access: 'У вашей роли нет доступа к чатам',
  refused_access_ended: 'Не отправлено: доступ закончился раньше, чем хаб принял сообщение. Повторите после входа или удалите.',
  active: 'Активен',
  deactivated: 'деактивирован',
  deactivateConfirm: 'Деактивировать сотрудника {name}? Все его входы в приложение завершатся сразу.',
  deactivate: 'Деактивировать',
  cancel: 'Отмена',
  signIns: 'Входы',
  signedInSince: 'вход',
  noSignIns: 'Ни один компьютер не подключён.',
  revoke: 'Отозвать',
  cannot_deactivate_self: 'Нельзя деактивировать самого себя.',
};

export type Locale = 'ru' | 'en';

export function pickLocale(languages: readonly string[]): Locale {
  const first = languages[0]?.toLowerCase() ?? '';
  return first.startsWith('ru') ? 'ru' : 'en';
}

export function translator(locale: Locale): (key: Key) => string {
  const table: Record<Key, string> = locale === 'ru' ? ru : en;
  return (key) => table[key];
}

const systemLanguages = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language];
/** The language the window speaks: the webview's until the app says the system's as Rust reads
 * it (`setLocale`, before any screen renders), so that the window, the tray and notifications
 * agree. */
let locale: Locale = pickLocale(systemLanguages);

export function setLocale(l: Locale): void {
  locale = l;
  if (typeof document !== 'undefined') document.documentElement.lang = l;
}

export function currentLocale(): Locale {
  return locale;
}

export function t(key: Key): string {
  return (locale === 'ru' ? ru : en)[key];
}

/** A file's size as people read it ("1.4 MB", "1,4 МБ"). */
export function fileSize(bytes: number): string {
  const ru = locale === 'ru';
  const units = ru ? ['Б', 'КБ', 'МБ', 'ГБ'] : ['B', 'KB', 'MB', 'GB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u += 1;
  }
  return `${n.toLocaleString(locale, { maximumFractionDigits: u === 0 ? 0 : 1 })} ${units[u]}`;
}

/** What a message carries, as the list's preview and a bubble without text name it:
 * "Document: invoice.pdf", "Voice message (0:14)" (the length as the desktop wrote it). */
export function kindLabel(kind: string, mediaName?: string | null, duration?: string | null): string {
  if (kind === 'text') return '';
  const label = tk(`msg_${kind}`);
  if (kind === 'document' && mediaName) return `${label}: ${mediaName}`;
  if ((kind === 'audio' || kind === 'video') && duration) return `${label} (${duration})`;
  return label;
}

/** A count as the UI's language writes it ("5 000", "5,000"). */
export function count(n: number): string {
  return n.toLocaleString(locale);
}

/** A time as the list shows it: the clock today, the date otherwise. */
export function shortTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(locale, { hour: 'numeric', minute: '2-digit' })
    : d.toLocaleDateString(locale, { day: 'numeric', month: 'short' });
}

/** A key built at run time (`reason_${…}`), falling back to the raw value when unknown. */
export function tk(key: string): string {
  return key in en ? t(key as Key) : key;
}

/** `text` with each `{name}` replaced by `vars.name` (plain text in, plain text out). */
export function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** A translated text with `{name}` placeholders filled in. */
export function tf(key: Key, vars: Record<string, string>): string {
  return fill(t(key), vars);
}

/** Why a file cannot be sent, in this language (core's reason, with its figures). */
export function fileRefusalText(r: {
  code: string;
  limit: number | null;
  mime: string | null;
  kind: string | null;
  transport: string | null;
}): string {
  const vars = {
    limit: r.limit != null ? fileSize(r.limit) : '',
    mime: r.mime ?? '',
    kind: r.kind ? kindLabel(r.kind) : '',
    transport: r.transport ? tk(`transport_${r.transport}`) : '',
  };
  return r.code in en ? tf(r.code as Key, vars) : r.code;
}

/** What the window says about a message the hub refused: its code explained in this language
 * (`client_taken` names whose client it is), else the hub's own words. */
export function refusalText(
  r: { error: string | null; error_code: string | null; error_owner: string | null },
  tr: (key: Key) => string = t,
): string {
  switch (r.error_code) {
    case 'client_taken':
      return r.error_owner ? fill(tr('refused_client_taken_owner'), { owner: r.error_owner }) : tr('refused_client_taken');
    case 'no_chat_access':
      return tr('refused_no_chat_access');
    case 'access_ended':
      return tr('refused_access_ended');
    case 'file_missing':
      return tr('file_missing');
    case 'upload_failed':
      return tr('refused_upload_failed');
    case 'file_too_big':
    case 'file_wrong_type':
    case 'file_not_on_channel':
    case 'file_empty':
      return tr(`refused_${r.error_code}`);
    default:
      return r.error ?? '';
  }
}

/** A failed command in this language: the codes this app explains, else Rust's or the hub's
 * own words. */
export function failureText(e: unknown): string {
  const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : '';
  const key = `err_${code}`;
  if (key in en) return t(key as Key);
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** A moment with its date and time, in this language. */
export function dateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}
